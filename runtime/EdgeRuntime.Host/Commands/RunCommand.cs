using System.CommandLine;
using EdgeRuntime.Host.Configuration;
using Microsoft.Extensions.Hosting;

namespace EdgeRuntime.Host.Commands;

/// <summary><c>edge-runtime run [--config PATH]</c>: the service.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        Option<string?> config = CommonOptions.Config();
        Command command = new("run", "Run the inspection service until stopped (Ctrl-C or SIGTERM flush what is in flight).") { config };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(config), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string? configPath, CancellationToken cancellationToken)
    {
        (IHost? host, _, int exitCode) = await ValidatedHost.BuildAsync(configPath, overrides: null, Console.Out).ConfigureAwait(false);
        if (host is null)
        {
            return exitCode;
        }

        using (host)
        {
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
        }

        return Environment.ExitCode;
    }
}

/// <summary>Process exit codes, stable for scripts and systemd.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Fault = 1;
    public const int BadConfiguration = 2;
    public const int BadInput = 3;

    /// <summary>Stopped on request (<c>cmd/restart</c>) to be started again; non-zero, so <c>Restart=on-failure</c> restarts it too.</summary>
    public const int RestartRequested = 4;
}

/// <summary>Options shared by commands.</summary>
internal static class CommonOptions
{
    public static Option<string?> Config() => new("--config")
    {
        Description = $"JSON config file (default {EdgeConfiguration.DefaultConfigPath} when present, else the embedded default)",
    };
}
