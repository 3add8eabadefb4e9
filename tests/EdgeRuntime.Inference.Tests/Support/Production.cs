using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.Inference.Golden;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Imaging;
using EdgeRuntime.Vision.Postprocessing;
using EdgeRuntime.Vision.Preprocessing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>The service's own preprocessing, postprocessing and image decoding, as the host wires them.</summary>
internal static class Production
{
    public static SegmentationPostprocessor Postprocessor() =>
        new(Microsoft.Extensions.Options.Options.Create(new InspectionOptions()), NullLogger<SegmentationPostprocessor>.Instance);

    public static GoldenSampleCheck Golden(IFramePreprocessor? preprocessor = null, IImageDecoder? decoder = null) =>
        new(new FrameInspector(preprocessor ?? new ManifestPreprocessor(), Postprocessor()), decoder ?? new OpenCvImageDecoder());
}

/// <summary>
/// The production preprocessing, until <see cref="Drifting"/> is set: then the first (red) channel of every tile is pushed
/// to +2, full red, as a failing camera or a corrupted model would make everything look defective.
/// </summary>
internal sealed class DriftingPreprocessor : IFramePreprocessor
{
    private readonly ManifestPreprocessor _inner = new();
    private volatile bool _drifting;

    public bool Drifting
    {
        get => _drifting;
        set => _drifting = value;
    }

    public TileLayout GetLayout(int frameWidth, int frameHeight, ModelManifest manifest) => _inner.GetLayout(frameWidth, frameHeight, manifest);

    public void Preprocess(Frame frame, TileLayout layout, ModelManifest manifest, Span<float> input)
    {
        _inner.Preprocess(frame, layout, manifest, input);
        if (_drifting)
        {
            int plane = manifest.Input.Width * manifest.Input.Height;
            for (int item = 0; item < layout.Count; item++)
            {
                input.Slice(item * manifest.Input.Channels * plane, plane).Fill(2f);
            }
        }
    }
}

/// <summary>Decodes with OpenCV, but holds the first decode until the test opens the gate, so a load can be watched mid-check.</summary>
internal sealed class GatedDecoder : IImageDecoder, IDisposable
{
    private readonly OpenCvImageDecoder _inner = new();
    private readonly ManualResetEventSlim _gate = new();

    public ManualResetEventSlim Entered { get; } = new();

    public Frame Decode(ReadOnlySpan<byte> encoded, string name, FramePool pool)
    {
        Entered.Set();
        if (!_gate.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("the test never opened the gate");
        }

        return _inner.Decode(encoded, name, pool);
    }

    public void Open() => _gate.Set();

    public void Dispose()
    {
        _gate.Dispose();
        Entered.Dispose();
    }
}
