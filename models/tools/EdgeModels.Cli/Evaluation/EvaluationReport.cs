using EdgeRuntime.Core.Inspection;

namespace EdgeModels.Cli.Evaluation;

/// <summary>IoU and Dice of one class over every pixel of the set; null where the class is in neither truth nor prediction.</summary>
internal sealed record ClassScore(int Index, string Name, double? Iou, double? Dice, long TruthPixels, long PredictedPixels);

/// <summary>
/// What <c>edge-models eval</c> measured. Ratios are 0..1 and null when their denominator is zero (no defective
/// images for the recall, no defect-free ones for the false-reject rate, no true instances for the instance recall).
/// </summary>
internal sealed record EvaluationReport
{
    /// <summary>The model and the execution provider that ran it.</summary>
    public required ModelIdentity Model { get; init; }

    public required int Images { get; init; }

    /// <summary>Images whose truth mask has at least one defect pixel.</summary>
    public required int DefectiveImages { get; init; }

    /// <summary>Defective images the runtime failed.</summary>
    public required int DefectiveImagesFailed { get; init; }

    /// <summary>Images whose truth mask is all good.</summary>
    public required int GoodImages { get; init; }

    /// <summary>Defect-free images the runtime failed.</summary>
    public required int GoodImagesFailed { get; init; }

    /// <summary>Names of the defective images the runtime passed, in evaluation order: what to look at first.</summary>
    public required IReadOnlyList<string> MissedImages { get; init; }

    /// <summary>Names of the defect-free images the runtime failed, in evaluation order.</summary>
    public required IReadOnlyList<string> FalseRejectImages { get; init; }

    public required long Pixels { get; init; }

    public required IReadOnlyList<ClassScore> PerClass { get; init; }

    /// <summary>Pixel Dice of defect versus good, all defect classes merged.</summary>
    public required double? AnyDefectDice { get; init; }

    /// <summary>Share of defective images failed.</summary>
    public double? ImageRecall => OverlapScore.Ratio(DefectiveImagesFailed, DefectiveImages);

    /// <summary>Share of defect-free images failed.</summary>
    public double? FalseRejectRate => OverlapScore.Ratio(GoodImagesFailed, GoodImages);

    public required InstanceCounts Instances { get; init; }

    /// <summary>Share of true defect instances touched by a reported defect.</summary>
    public double? InstanceRecall => OverlapScore.Ratio(Instances.RecalledInstances, Instances.TruthInstances);

    /// <summary>Mean per-image time from tiling through postprocessing (decode excluded), in milliseconds.</summary>
    public required double MeanLatencyMs { get; init; }
}
