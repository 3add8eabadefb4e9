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

/// <summary>The model's state for reporting.</summary>
/// <param name="Phase">not-loaded, loading, warming, ready or failed.</param>
/// <param name="Message">One line for an operator.</param>
/// <param name="Model">The serving model; null when none.</param>
/// <param name="Providers">Which provider runs it and why others were skipped; null when none serves.</param>
/// <param name="LastFailure">Why the most recent load failed; null when it did not.</param>
public sealed record ModelStatusReport(string Phase, string Message, ModelIdentity? Model, string? Providers, string? LastFailure);

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
