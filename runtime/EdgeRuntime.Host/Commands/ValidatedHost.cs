using EdgeRuntime.Host.Composition;
using EdgeRuntime.Host.Configuration;
using Microsoft.Extensions.Hosting;

namespace EdgeRuntime.Host.Commands;

/// <summary>
/// What every command does first: read the configuration, compose the service and check every option,
/// reporting all problems at once on stderr. Only a configuration without problems yields a host.
/// </summary>
internal static class ValidatedHost
{
    /// <summary>The host (caller disposes), or null with the exit code to return.</summary>
    public static async Task<(IHost? Host, EdgeConfiguration? Configuration, int ExitCode)> BuildAsync(
        string? configPath, IDictionary<string, string?>? overrides, TextWriter console)
    {
        EdgeConfiguration configuration;
        try
        {
            configuration = EdgeConfiguration.Build(configPath, overrides);
        }
        catch (ConfigurationFileException ex)
        {
            await Console.Error.WriteLineAsync("edge-runtime: " + ex.Message).ConfigureAwait(false);
            return (null, null, ExitCodes.BadConfiguration);
        }

        IHost host = EdgeHost.Build(configuration, console, out OptionsRegistry registry);
        IReadOnlyList<string> problems = registry.Check(host.Services, configuration.Root);
        if (problems.Count == 0)
        {
            return (host, configuration, ExitCodes.Ok);
        }

        host.Dispose();
        await Console.Error.WriteLineAsync(
            $"edge-runtime: {problems.Count} configuration problem{(problems.Count == 1 ? string.Empty : "s")} in {configuration.Description}:").ConfigureAwait(false);
        foreach (string problem in problems)
        {
            await Console.Error.WriteLineAsync("  - " + problem).ConfigureAwait(false);
        }

        return (null, configuration, ExitCodes.BadConfiguration);
    }
}
