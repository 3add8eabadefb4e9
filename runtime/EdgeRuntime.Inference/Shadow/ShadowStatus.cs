using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Inference.Models;

namespace EdgeRuntime.Inference.Shadow;

/// <summary>
/// How a shadow model compares with the serving one, for health, diagnostics and the model status command. Counts are
/// since <see cref="Since"/>: they restart when either model changes. Immutable.
/// </summary>
/// <param name="Package">The shadow package folder.</param>
/// <param name="Phase">The shadow model's own load phase (Ready once it runs; Failed when its package was refused).</param>
/// <param name="Message">One line for an operator (the shadow provider's state, or why it was refused).</param>
/// <param name="Shadow">The shadow model; null until it is loaded.</param>
/// <param name="Active">The serving model the counts compare against; null before the first comparison.</param>
/// <param name="Fraction">Share of inspected frames the shadow judges.</param>
/// <param name="Sampled">Frames chosen for the shadow.</param>
/// <param name="Compared">Frames both models judged.</param>
/// <param name="Skipped">Chosen frames not judged because the shadow was still busy with earlier ones.</param>
/// <param name="Errors">Chosen frames the shadow failed on.</param>
/// <param name="VerdictAgreements">Compared frames with the same verdict.</param>
/// <param name="AgreementRate">VerdictAgreements / Compared; null before the first comparison.</param>
/// <param name="MeanMaskIoU">Mean intersection over union of the two any-defect masks (1 where both are empty); null before the first comparison.</param>
/// <param name="Disagreements">The most recent frames where the verdicts differed, oldest first, at most <see cref="ShadowOptions.MaxExamples"/>.</param>
/// <param name="Since">When the counts started (the first comparison of this pair of models); null before it.</param>
public sealed record ShadowStatus(
    string Package,
    ModelPhase Phase,
    string Message,
    ModelIdentity? Shadow,
    ModelIdentity? Active,
    double Fraction,
    long Sampled,
    long Compared,
    long Skipped,
    long Errors,
    long VerdictAgreements,
    double? AgreementRate,
    double? MeanMaskIoU,
    IReadOnlyList<ShadowDisagreement> Disagreements,
    DateTimeOffset? Since);

/// <summary>A frame on which the shadow and the serving model gave different verdicts.</summary>
/// <param name="FrameId">The frame's id from its source.</param>
/// <param name="Sequence">The trigger's sequence number.</param>
/// <param name="ActiveVerdict">The published verdict.</param>
/// <param name="ShadowVerdict">The shadow model's verdict.</param>
/// <param name="ActiveDefects">Defects the serving model reported.</param>
/// <param name="ShadowDefects">Defects the shadow model found.</param>
/// <param name="MaskIoU">Intersection over union of the two any-defect masks.</param>
public sealed record ShadowDisagreement(string FrameId, long Sequence, Verdict ActiveVerdict, Verdict ShadowVerdict, int ActiveDefects, int ShadowDefects, double MaskIoU);
