using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Postprocessing;

namespace EdgeModels.Cli.Tuning;

/// <summary>
/// A postprocessor for <see cref="FrameInspector"/> that, besides judging the frame with the package's own rule,
/// measures the largest connected component of every defect class under each of a list of threshold sets. Each set
/// is judged by the runtime's own <see cref="SegmentationPostprocessor"/> (activation, tile stitching, the per-pixel
/// class decision, 8-connected components) on a copy of the manifest whose classes carry that set's thresholds and a
/// minimum area of 0, so every component is reported with its area; a minimum area can then be applied afterwards
/// (<see cref="SegmentationPostprocessor.MinimumFrameArea"/>) without running the model again. The model runs once
/// per image however many sets are measured, and one postprocessor (one set of pooled buffers) serves them all.
/// </summary>
/// <remarks>Not thread-safe: one image at a time, read <see cref="LargestArea"/> before the next.</remarks>
internal sealed class ComponentAreaRecorder : ISegmentationPostprocessor
{
    private readonly SegmentationPostprocessor _postprocessor;
    private readonly ModelManifest[] _probes;
    private readonly InspectionResult _probeResult = new();
    private readonly int _classCount;
    private readonly int[] _largest;

    /// <param name="manifest">The model's manifest.</param>
    /// <param name="thresholdSets">Per set, one threshold per class index (index 0, the background, is ignored).</param>
    /// <param name="postprocessor">The runtime's postprocessor, without class overrides: it judges the frame into the
    /// caller's result with the manifest's own limits, and each threshold set with its own.</param>
    public ComponentAreaRecorder(ModelManifest manifest, IReadOnlyList<double[]> thresholdSets, SegmentationPostprocessor postprocessor)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(thresholdSets);
        _postprocessor = postprocessor ?? throw new ArgumentNullException(nameof(postprocessor));
        _classCount = manifest.ClassCount;
        _probes = new ModelManifest[thresholdSets.Count];
        for (int s = 0; s < thresholdSets.Count; s++)
        {
            double[] thresholds = thresholdSets[s];
            _probes[s] = manifest with
            {
                Classes = [.. manifest.Classes.Select(c => c.IsBackground ? c : c with { Threshold = thresholds[c.Index], MinArea = 0 })],
            };
        }

        _largest = new int[thresholdSets.Count * _classCount];
    }

    /// <summary>Width of the frame last judged.</summary>
    public int FrameWidth { get; private set; }

    /// <summary>Height of the frame last judged.</summary>
    public int FrameHeight { get; private set; }

    /// <summary>The largest component of <paramref name="classIndex"/> in the frame last judged under threshold set
    /// <paramref name="set"/>, in frame pixels; 0 when the class has none.</summary>
    public int LargestArea(int set, int classIndex) => _largest[(set * _classCount) + classIndex];

    /// <inheritdoc />
    public void Postprocess(ReadOnlySpan<float> output, TileLayout layout, ModelManifest manifest, InspectionResult result, Span<byte> classMap = default)
    {
        ArgumentNullException.ThrowIfNull(layout);
        FrameWidth = layout.FrameWidth;
        FrameHeight = layout.FrameHeight;
        Array.Clear(_largest);
        for (int s = 0; s < _probes.Length; s++)
        {
            _probeResult.Reset();
            _postprocessor.Postprocess(output, layout, _probes[s], _probeResult);
            Span<int> largest = _largest.AsSpan(s * _classCount, _classCount);
            foreach (Defect defect in _probeResult.Defects)
            {
                largest[defect.ClassIndex] = Math.Max(largest[defect.ClassIndex], defect.Area);
            }
        }

        _postprocessor.Postprocess(output, layout, manifest, result, classMap);
    }
}
