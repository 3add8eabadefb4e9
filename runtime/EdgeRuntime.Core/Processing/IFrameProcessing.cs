using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Core.Processing;

/// <summary>
/// Turns a frame into the model's input tensor as the manifest says (tiling or resize, colour order,
/// scale/mean/std, layout). Stateless apart from caches; may be called from several threads.
/// </summary>
public interface IFramePreprocessor
{
    /// <summary>The tile layout for a frame of this size under this manifest (cached; never allocates in steady state).</summary>
    TileLayout GetLayout(int frameWidth, int frameHeight, ModelManifest manifest);

    /// <summary>Writes one batch item per tile of <paramref name="layout"/> into <paramref name="input"/>.</summary>
    void Preprocess(Frame frame, TileLayout layout, ModelManifest manifest, Span<float> input);
}

/// <summary>
/// Turns the model's output into defects and a verdict: activation, stitching of tiles, per-class
/// thresholds, connected components, minimum areas, the region of interest. Thread-safe.
/// </summary>
public interface ISegmentationPostprocessor
{
    /// <summary>
    /// Adds the defects found in <paramref name="output"/> (one batch item per tile) to <paramref name="result"/>
    /// and sets its verdict. When <paramref name="classMap"/> is not empty it receives the per-pixel class
    /// index of the whole frame (<c>FrameWidth * FrameHeight</c> bytes).
    /// </summary>
    void Postprocess(ReadOnlySpan<float> output, TileLayout layout, ModelManifest manifest, InspectionResult result, Span<byte> classMap = default);
}
