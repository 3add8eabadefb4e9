using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeModels.Cli.Tuning;

/// <summary>
/// One candidate verdict rule and how it did on the tuning set: per defect class a threshold and a minimum area (the
/// manifest's <c>threshold</c> and <c>minArea</c>), the image-level recall and false-reject rate, and the images it
/// got wrong.
/// </summary>
internal sealed record VerdictRule
{
    /// <summary>Per defect class, in index order (class 0 has no limits).</summary>
    public required IReadOnlyList<ClassLimits> Limits { get; init; }

    /// <summary>Images with a defect that the rule FAILs, over all images with a defect.</summary>
    public required double Recall { get; init; }

    /// <summary>Defect-free images the rule FAILs, over all defect-free images.</summary>
    public required double FalseRejectRate { get; init; }

    /// <summary>Images with a defect that the rule PASSes, in set order.</summary>
    public required IReadOnlyList<string> MissedImages { get; init; }

    /// <summary>Defect-free images the rule FAILs, in set order.</summary>
    public required IReadOnlyList<string> FalseRejectImages { get; init; }

    /// <summary>Whether the rule reaches both targets.</summary>
    public required bool MeetsTargets { get; init; }
}
