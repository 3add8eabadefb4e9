using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Messaging.Health;

/// <summary>
/// What the model provider says about itself, for health and <c>cmd/model/status</c>. Implemented by the host over the
/// inference adapter (Messaging does not reference it). Must be cheap and thread-safe: read from the publisher's loop.
/// </summary>
public interface IModelStatusSource
{
    /// <summary>A snapshot now.</summary>
    ModelStatusReport Current { get; }
}

/// <summary>The model's state for reporting. Immutable.</summary>
/// <param name="Phase">not-loaded, loading, warming, ready, degraded (serving, but its last golden check disagreed) or failed.</param>
/// <param name="Message">One line for an operator (for degraded: why).</param>
/// <param name="Model">The serving model; null when none.</param>
/// <param name="Providers">Which provider runs it and why others were skipped; null when none serves.</param>
/// <param name="LastFailure">Why the most recent load failed; null when it did not.</param>
/// <param name="Golden">The serving model's most recent golden-sample check; null when its package has none or none ran.</param>
/// <param name="Shadow">How a shadow model compares with the serving one; null when no shadow model is configured.</param>
public sealed record ModelStatusReport(string Phase, string Message, ModelIdentity? Model, string? Providers, string? LastFailure,
    GoldenCheckStatus? Golden = null, ShadowAgreementStatus? Shadow = null);

/// <summary>One run of the serving model's golden samples (at load, or periodic). Immutable.</summary>
/// <param name="LastRunUtc">When the check finished.</param>
/// <param name="Samples">Golden samples judged.</param>
/// <param name="Passed">Every sample got its expected verdict (and classes, where given).</param>
/// <param name="Reason">Which samples disagreed and how; null when it passed.</param>
public sealed record GoldenCheckStatus(DateTimeOffset LastRunUtc, int Samples, bool Passed, string? Reason);

/// <summary>
/// A shadow (A/B) model judging a share of the frames beside the serving one, and how often they agree. Counts restart
/// when either model changes. Immutable.
/// </summary>
/// <param name="Package">The shadow package folder.</param>
/// <param name="Phase">The shadow model's own load phase, with the same names as <see cref="ModelStatusReport.Phase"/>.</param>
/// <param name="Message">One line for an operator (what it runs on, or why its package was refused).</param>
/// <param name="Model">The shadow model; null until it is loaded.</param>
/// <param name="Fraction">Share of inspected frames the shadow judges, 0..1.</param>
/// <param name="Sampled">Frames chosen for the shadow.</param>
/// <param name="Compared">Frames both models judged.</param>
/// <param name="Skipped">Chosen frames not judged because the shadow was still busy.</param>
/// <param name="Errors">Chosen frames the shadow failed on.</param>
/// <param name="AgreementRate">Share of compared frames with the same verdict, 0..1; null before the first comparison.</param>
/// <param name="MeanMaskIoU">Mean IoU of the two models' any-defect masks, 0..1; null before the first comparison.</param>
/// <param name="Since">When the counts started; null before the first comparison.</param>
/// <param name="LastDisagreements">The most recent frames whose verdicts differed, oldest first.</param>
public sealed record ShadowAgreementStatus(
    string Package,
    string Phase,
    string Message,
    ModelIdentity? Model,
    double Fraction,
    long Sampled,
    long Compared,
    long Skipped,
    long Errors,
    double? AgreementRate,
    double? MeanMaskIoU,
    DateTimeOffset? Since,
    IReadOnlyList<ShadowDisagreementReport> LastDisagreements);

/// <summary>A frame on which the shadow and the serving model gave different verdicts. Immutable.</summary>
/// <param name="FrameId">The frame's id from its source.</param>
/// <param name="Sequence">The trigger's sequence number (the published result's <c>seq</c>).</param>
/// <param name="Verdict">The published verdict (the serving model's).</param>
/// <param name="ShadowVerdict">The shadow model's verdict.</param>
/// <param name="Defects">Defects the serving model reported.</param>
/// <param name="ShadowDefects">Defects the shadow model found.</param>
/// <param name="MaskIoU">IoU of the two any-defect masks, 0..1.</param>
public sealed record ShadowDisagreementReport(string FrameId, long Sequence, Verdict Verdict, Verdict ShadowVerdict, int Defects, int ShadowDefects, double MaskIoU);

/// <summary>A <see cref="IModelStatusSource"/> over a delegate, for the composition root and tests.</summary>
public sealed class DelegateModelStatusSource(Func<ModelStatusReport> read) : IModelStatusSource
{
    /// <inheritdoc />
    public ModelStatusReport Current => read();
}

/// <summary>
/// The pipeline's live state that health reports besides the ledger: queue depths and whether the source ended.
/// Thread-safe reads.
/// </summary>
public interface IPipelineProbe
{
    /// <summary>Current queue depths.</summary>
    Core.Pipeline.QueueDepths Depths { get; }

    /// <summary>Whether the frame source ran out.</summary>
    bool SourceEnded { get; }
}

/// <summary>An <see cref="IPipelineProbe"/> over the running pipeline.</summary>
public sealed class InspectionPipelineProbe(Core.Pipeline.InspectionPipeline pipeline) : IPipelineProbe
{
    /// <inheritdoc />
    public Core.Pipeline.QueueDepths Depths => pipeline.Depths;

    /// <inheritdoc />
    public bool SourceEnded => pipeline.SourceEnded;
}
