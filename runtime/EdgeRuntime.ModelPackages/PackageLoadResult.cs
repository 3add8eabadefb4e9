using System.Diagnostics.CodeAnalysis;

namespace EdgeRuntime.ModelPackages;

/// <summary>An opened, verified package, or every problem that kept it from being one.</summary>
public sealed class PackageLoadResult
{
    private PackageLoadResult(string source, ModelPackage? package, IReadOnlyList<PackageProblem> problems)
    {
        Source = source;
        Package = package;
        Problems = problems;
    }

    /// <summary>The folder or archive the result is about, as given.</summary>
    public string Source { get; }

    /// <summary>The package; non-null exactly when <see cref="Problems"/> is empty.</summary>
    public ModelPackage? Package { get; }

    public IReadOnlyList<PackageProblem> Problems { get; }

    [MemberNotNullWhen(true, nameof(Package))]
    public bool Succeeded => Package is not null;

    /// <summary>The package, or a <see cref="ModelPackageException"/> listing every problem.</summary>
    /// <exception cref="ModelPackageException">The package could not be opened.</exception>
    public ModelPackage GetPackageOrThrow() => Package ?? throw new ModelPackageException(Source, Problems);

    internal static PackageLoadResult Success(string source, ModelPackage package) => new(source, package, []);

    internal static PackageLoadResult Failure(string source, IReadOnlyList<PackageProblem> problems)
    {
        if (problems.Count == 0)
        {
            throw new ArgumentException("A failed load carries at least one problem.", nameof(problems));
        }

        return new(source, null, problems);
    }

    internal static PackageLoadResult Failure(string source, PackageProblemKind kind, string message) =>
        Failure(source, [new PackageProblem(kind, message)]);
}
