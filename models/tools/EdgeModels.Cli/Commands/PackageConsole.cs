using EdgeRuntime.ModelPackages;

namespace EdgeModels.Cli.Commands;

/// <summary>Exit codes and problem reporting shared by the package, keygen, sign, verify and validate commands.</summary>
internal static class PackageConsole
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The package, manifest, model or signature has problems; each was printed.</summary>
    public const int ProblemsFound = 1;

    /// <summary>The command line or the environment is wrong (missing file, conflicting options, unreadable key).</summary>
    public const int UsageError = 2;

    public static async Task<int> ReportAsync(TextWriter error, string subject, IReadOnlyList<PackageProblem> problems)
    {
        await error.WriteLineAsync($"{subject}: {problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}").ConfigureAwait(false);
        foreach (PackageProblem problem in problems)
        {
            await error.WriteLineAsync($"  [{problem.Kind}] {problem.Message}").ConfigureAwait(false);
        }

        return ProblemsFound;
    }

    /// <summary>An .edgepkg file rather than a package folder.</summary>
    public static bool IsArchive(string path) => File.Exists(path);
}
