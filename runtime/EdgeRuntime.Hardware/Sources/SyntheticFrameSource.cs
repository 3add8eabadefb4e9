using System.Globalization;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Vision.Synthetic;
using Microsoft.Extensions.Options;
using OpenCvSharp;

namespace EdgeRuntime.Hardware.Sources;

/// <summary>
/// Renders synthetic defect scenes (<see cref="DefectSceneGenerator"/>) into pooled BGR frames: scene 0, 1, 2...
/// of the configured seed, so two runs with the same options see the same frames in the same order.
/// </summary>
/// <remarks>
/// <see cref="CaptureAsync"/> renders on the calling thread and is called by the capture stage one call at a time
/// (the <see cref="IFrameSource"/> contract). The source owns the generator and its scene buffers: dispose it.
/// </remarks>
public sealed class SyntheticFrameSource : IFrameSource, IDisposable
{
    private readonly DefectSceneGenerator _generator;
    private readonly Mat _image = new();
    private readonly Mat _mask = new();
    private readonly List<DefectInstance> _defects = new(16);
    private readonly FramePool _pool;
    private readonly TimeProvider _time;
    private readonly string _idPrefix;
    private long _index;

    /// <summary>Creates the generator; the source keeps <paramref name="pool"/> but does not own it.</summary>
    /// <exception cref="ArgumentException">The size is outside what the generator renders (the message names the key).</exception>
    public SyntheticFrameSource(IOptions<SourceOptions> options, FramePool pool, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(timeProvider);
        SyntheticOptions synthetic = options.Value.Synthetic;
        _generator = new DefectSceneGenerator(new DefectSceneOptions
        {
            Seed = synthetic.Seed,
            Width = synthetic.Width,
            Height = synthetic.Height,
        });
        _pool = pool;
        _time = timeProvider;
        Seed = synthetic.Seed;
        _idPrefix = string.Create(CultureInfo.InvariantCulture, $"synthetic-{synthetic.Seed}-");
    }

    /// <inheritdoc />
    public string Name => "synthetic";

    /// <summary>Seed of the scene sequence.</summary>
    public long Seed { get; }

    /// <summary>Index the next frame will be rendered from.</summary>
    public long NextIndex => Interlocked.Read(ref _index);

    /// <summary>
    /// What the last frame shows: its surface and the defects painted into it (ground truth for accuracy checks).
    /// Valid until the next capture; read it from the capturing thread.
    /// </summary>
    public SceneSummary LastScene { get; private set; }

    /// <summary>The defects painted into the last frame; valid until the next capture.</summary>
    public IReadOnlyList<DefectInstance> LastDefects => _defects;

    /// <summary>Renders the next scene into a frame the caller owns and disposes. <c>FrameId</c> is <c>synthetic-SEED-INDEX</c>.</summary>
    public ValueTask<Frame> CaptureAsync(TriggerSignal trigger, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_image.IsDisposed, this);
        long index = _index;
        LastScene = _generator.Render(index, _image, _mask, _defects);
        Interlocked.Increment(ref _index);
        Frame frame = _pool.Rent(_generator.Width, _generator.Height, PixelFormat.Bgr24);
        _image.AsSpan<byte>()[..frame.Length].CopyTo(frame.Pixels);

        // One short string per frame: the frame id is a string by contract.
        frame.FrameId = _idPrefix + index.ToString(CultureInfo.InvariantCulture);
        frame.CapturedTimestamp = _time.GetTimestamp();
        return new ValueTask<Frame>(frame);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _generator.Dispose();
        _image.Dispose();
        _mask.Dispose();
    }
}
