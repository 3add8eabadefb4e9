using System.Diagnostics.CodeAnalysis;

namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>A validated manifest, or every problem that kept the document from being one.</summary>
public sealed class ManifestLoadResult
{
    private ManifestLoadResult(ModelManifest? manifest, IReadOnlyList<ManifestProblem> problems)
    {
        Manifest = manifest;
        Problems = problems;
    }

    /// <summary>The manifest; non-null exactly when <see cref="Problems"/> is empty.</summary>
    public ModelManifest? Manifest { get; }

    /// <summary>All problems found, in document order; empty on success.</summary>
    public IReadOnlyList<ManifestProblem> Problems { get; }

    [MemberNotNullWhen(true, nameof(Manifest))]
    public bool IsValid => Manifest is not null;

    internal static ManifestLoadResult Success(ModelManifest manifest) => new(manifest, []);

    internal static ManifestLoadResult Failure(IReadOnlyList<ManifestProblem> problems)
    {
        if (problems.Count == 0)
        {
            throw new ArgumentException("A failed load carries at least one problem.", nameof(problems));
        }

        return new(null, problems);
    }
}
