using EdgeRuntime.Core.Inspection;

namespace EdgeModels.Cli.Tuning;

/// <summary>What <c>edge-models tune</c> found: the set, the targets, the package's own rule and the best candidates.</summary>
internal sealed record TuningReport
{
    /// <summary>The model measured.</summary>
    public required ModelIdentity Model { get; init; }

    /// <summary>Class names by index.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Images in the tuning set.</summary>
    public required int Images { get; init; }

    /// <summary>Images whose truth mask holds a defect.</summary>
    public required int DefectiveImages { get; init; }

    /// <summary>Image-level recall to reach.</summary>
    public required double TargetRecall { get; init; }

    /// <summary>False-reject rate not to exceed.</summary>
    public required double TargetFalseRejectRate { get; init; }

    /// <summary>Threshold sets measured (postprocessing passes per image).</summary>
    public required int ThresholdSets { get; init; }

    /// <summary>Minimum-area combinations applied to each threshold set.</summary>
    public required int MinAreaSets { get; init; }

    /// <summary>The package's own rule on this set.</summary>
    public required VerdictRule Current { get; init; }

    /// <summary>The best rules, best first.</summary>
    public required IReadOnlyList<VerdictRule> Best { get; init; }

    /// <summary>Whether the best rule was written to the manifest.</summary>
    public bool Written { get; init; }

    /// <summary>Whether writing removed a signature the change made stale.</summary>
    public bool SignatureRemoved { get; init; }
}
