using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Tiling;

namespace EdgeRuntime.Core.Pipeline;

/// <summary>
/// Sees every inspected frame once its result has been published, while the frame still holds its tensors: a shadow
/// model compares itself with the serving one here. Called by the pipeline's publish stage, one frame at a time, so the
/// verdict is already out and nothing the observer does can change or delay it. It must still return at once (copy what
/// it needs into its own buffers, or decline) and must not throw; everything it is given is reused after it returns.
/// </summary>
public interface IInspectionObserver
{
    /// <summary>One published, inspected frame.</summary>
    void OnPublished(in InspectedFrame frame);
}

/// <summary>
/// What an <see cref="IInspectionObserver"/> sees of one inspected frame; valid only during the call.
/// </summary>
/// <param name="result">The published result (verdict, defects, sequence, frame id).</param>
/// <param name="frame">The captured frame.</param>
/// <param name="session">The session that judged it (still leased).</param>
/// <param name="layout">The tile layout the frame was cut into.</param>
/// <param name="buffers">The preprocessed input and the model's output for <paramref name="layout"/>'s items.</param>
public readonly ref struct InspectedFrame(InspectionResult result, Frame frame, IInferenceSession session, TileLayout layout, InferenceBuffers buffers)
{
    /// <summary>The published result.</summary>
    public InspectionResult Result { get; } = result;

    /// <summary>The captured frame.</summary>
    public Frame Frame { get; } = frame;

    /// <summary>The session that judged the frame.</summary>
    public IInferenceSession Session { get; } = session;

    /// <summary>The tile layout the frame was cut into.</summary>
    public TileLayout Layout { get; } = layout;

    /// <summary>The preprocessed input and the model's output; the first <c>Layout.Count</c> items are this frame's.</summary>
    public InferenceBuffers Buffers { get; } = buffers;
}
