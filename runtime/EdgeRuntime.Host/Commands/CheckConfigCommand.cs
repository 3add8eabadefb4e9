using System.CommandLine;
using EdgeRuntime.Host.Configuration;
using Microsoft.Extensions.Hosting;

namespace EdgeRuntime.Host.Commands;

/// <summary><c>edge-runtime check-config [PATH]</c>: the start-up validation, offline.</summary>
internal static class CheckConfigCommand
{
    public static Command Create()
    {
        Argument<string?> path = new("path")
        {
            Description = $"config file to check (default {EdgeConfiguration.DefaultConfigPath} when present, else the embedded default)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Command command = new("check-config", "Validate a configuration exactly as start-up does and list every problem.") { path };
        command.SetAction((parse, cancellationToken) => CheckAsync(parse.GetValue(path), cancellationToken));
        return command;
    }

    private static async Task<int> CheckAsync(string? path, CancellationToken cancellationToken)
    {
        (IHost? host, EdgeConfiguration? configuration, int exitCode) = await ValidatedHost.BuildAsync(path, overrides: null, TextWriter.Null).ConfigureAwait(false);
        if (host is null)
        {
            return exitCode;
        }

        using (host)
        {
            await Console.Out.WriteLineAsync($"{configuration!.Description}: valid").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }
}
