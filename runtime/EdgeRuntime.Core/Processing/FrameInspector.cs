using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Tiling;

namespace EdgeRuntime.Core.Processing;

/// <summary>
/// One frame through preprocessing, the model and postprocessing, on the calling thread: what offline
/// inspection and evaluation do. The pipeline runs the same three calls in separate stages so they overlap.
/// Thread-safe as long as each caller brings its own buffers and result.
/// </summary>
public sealed class FrameInspector(IFramePreprocessor preprocessor, ISegmentationPostprocessor postprocessor)
{
    /// <summary>
    /// Inspects <paramref name="frame"/> on <paramref name="session"/> into <paramref name="result"/> (reset first),
    /// reusing <paramref name="buffers"/> when they fit. Fills <paramref name="classMap"/> when it is not empty.
    /// </summary>
    /// <returns>The tile layout used.</returns>
    public TileLayout Inspect(IInferenceSession session, Frame frame, ref InferenceBuffers? buffers, InspectionResult result, Span<byte> classMap = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(result);
        TileLayout layout = preprocessor.GetLayout(frame.Width, frame.Height, session.Manifest);
        InferenceBuffers tensors = session.Reuse(ref buffers, layout.Count);
        preprocessor.Preprocess(frame, layout, session.Manifest, tensors.InputData);
        session.Run(tensors, layout.Count);
        result.Reset();
        result.Model = session.Identity;
        result.FrameId = frame.FrameId;
        result.ImageWidth = frame.Width;
        result.ImageHeight = frame.Height;
        postprocessor.Postprocess(tensors.OutputData[..(layout.Count * tensors.Output.ElementCount)], layout, session.Manifest, result, classMap);
        return layout;
    }
}
