using System.CommandLine;
using EdgeRuntime.Host.Composition;
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
        EdgeConfiguration configuration;
        try
        {
            configuration = EdgeConfiguration.Build(path);
        }
        catch (ConfigurationFileException ex)
        {
            await Console.Error.WriteLineAsync("edge-runtime: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.BadConfiguration;
        }

        using IHost host = EdgeHost.Build(configuration, TextWriter.Null, out OptionsRegistry registry);
        IReadOnlyList<string> problems = registry.Check(host.Services, configuration.Root);
        if (problems.Count > 0)
        {
            await ConfigurationReport.WriteAsync(Console.Error, configuration, problems).ConfigureAwait(false);
            return ExitCodes.BadConfiguration;
        }

        await Console.Out.WriteLineAsync($"{configuration.Description}: valid ({string.Join(", ", registry.Sections)})").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}

/// <summary>How configuration problems are shown to a person.</summary>
internal static class ConfigurationReport
{
    public static async Task WriteAsync(TextWriter writer, EdgeConfiguration configuration, IReadOnlyList<string> problems)
    {
        await writer.WriteLineAsync($"edge-runtime: {problems.Count} configuration problem{(problems.Count == 1 ? string.Empty : "s")} in {configuration.Description}:").ConfigureAwait(false);
        foreach (string problem in problems)
        {
            await writer.WriteLineAsync("  - " + problem).ConfigureAwait(false);
        }
    }
}
