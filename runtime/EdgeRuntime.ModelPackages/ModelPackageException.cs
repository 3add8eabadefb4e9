namespace EdgeRuntime.ModelPackages;

/// <summary>
/// Thrown where a caller asked for a package (or trusted keys) and cannot continue without one; carries every problem
/// found, not only the first. Expected bad input is otherwise returned as <see cref="PackageProblem"/> lists.
/// </summary>
public sealed class ModelPackageException : Exception
{
    public ModelPackageException(string subject, IReadOnlyList<PackageProblem> problems)
        : base(FormatMessage(subject, problems))
    {
        Problems = problems;
    }

    /// <summary>Every problem found, in the order they were found.</summary>
    public IReadOnlyList<PackageProblem> Problems { get; }

    private static string FormatMessage(string subject, IReadOnlyList<PackageProblem> problems) =>
        problems.Count switch
        {
            0 => $"{subject} is unusable",
            1 => $"{subject}: {problems[0].Message}",
            _ => $"{subject} has {problems.Count} problems:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}",
        };
}
