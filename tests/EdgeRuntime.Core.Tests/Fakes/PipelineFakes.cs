using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Core.Tests.Fakes;

/// <summary>Triggers fired by the test.</summary>
internal sealed class ManualTrigger(TimeProvider time, TriggerPacing pacing = TriggerPacing.External) : ITriggerSource
{
    private readonly Channel<TriggerSignal> _signals = Channel.CreateUnbounded<TriggerSignal>();

    public string Name => "manual";

    public TriggerPacing Pacing => pacing;

    public void Fire(int count = 1)
    {
        for (int i = 0; i < count; i++)
        {
            _signals.Writer.TryWrite(new TriggerSignal(time.GetUtcNow(), time.GetTimestamp(), Name));
        }
    }

    public void End() => _signals.Writer.TryComplete();

    public async IAsyncEnumerable<TriggerSignal> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (TriggerSignal signal in _signals.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return signal;
        }
    }
}

/// <summary>Frames of a fixed size whose first byte says whether the frame is "defective".</summary>
internal sealed class CountingFrameSource(FramePool pool, int width = 8, int height = 8) : IFrameSource
{
    private int _captured;

    public string Name => "counting";

    public int Captured => _captured;

    /// <summary>Every n-th frame is defective (0 = none).</summary>
    public int DefectEvery { get; set; }

    /// <summary>Frame numbers (1-based) whose capture fails.</summary>
    public HashSet<int> FailingFrames { get; } = [];

    public ValueTask<Frame> CaptureAsync(TriggerSignal trigger, CancellationToken cancellationToken)
    {
        int n = Interlocked.Increment(ref _captured);
        if (FailingFrames.Contains(n))
        {
            throw new FrameSourceException($"frame {n} is unreadable");
        }

        Frame frame = pool.Rent(width, height, PixelFormat.Gray8);
        frame.Pixels.Clear();
        frame.Pixels[0] = (byte)(DefectEvery > 0 && n % DefectEvery == 0 ? 255 : 0);
        frame.FrameId = "frame-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ValueTask.FromResult(frame);
    }
}

/// <summary>A session whose Run copies the first input value to the output, optionally waiting on a gate.</summary>
internal sealed class FakeSession : IInferenceSession
{
    public FakeSession(ModelManifest manifest)
    {
        Manifest = manifest;
        Identity = new ModelIdentity(manifest.Id, manifest.Version, "fp32", "CPU", new string('0', 64));
    }

    public ModelIdentity Identity { get; }

    public ModelManifest Manifest { get; }

    public SemaphoreSlim? Gate { get; set; }

    public int Runs;

    public InferenceBuffers CreateBuffers(int batchCapacity) => new FakeBuffers(this, batchCapacity);

    public void Run(InferenceBuffers buffers, int itemCount)
    {
        Gate?.Wait();
        Interlocked.Increment(ref Runs);
        var fake = (FakeBuffers)buffers;
        fake.OutputArray[0] = fake.InputArray[0];
    }

    private sealed class FakeBuffers(IInferenceSession owner, int capacity)
        : InferenceBuffers(owner, new TensorGeometry(1, 1, 1), new TensorGeometry(1, 1, 1), capacity)
    {
        public float[] InputArray { get; } = new float[capacity];

        public float[] OutputArray { get; } = new float[capacity];

        public override Span<float> InputData => InputArray;

        public override ReadOnlySpan<float> OutputData => OutputArray;

        protected override void Dispose(bool disposing)
        {
        }
    }
}

internal sealed class FakeModelProvider(FakeSession? session) : IModelProvider
{
    public int Leases;

    public FakeSession? Session { get; set; } = session;

    public ModelLease Acquire()
    {
        FakeSession current = Session ?? throw new InvalidOperationException("no model loaded");
        Interlocked.Increment(ref Leases);
        return new ModelLease(this, current);
    }

    public void Release(IInferenceSession session) => Interlocked.Decrement(ref Leases);
}

internal sealed class FirstPixelPreprocessor : IFramePreprocessor
{
    public TileLayout GetLayout(int frameWidth, int frameHeight, ModelManifest manifest) =>
        TileLayout.Create(frameWidth, frameHeight, frameWidth, frameHeight, 0);

    public void Preprocess(Frame frame, TileLayout layout, ModelManifest manifest, Span<float> input) => input[0] = frame.Pixels[0];
}

/// <summary>FAIL with one defect when the "model" output is non-zero.</summary>
internal sealed class ThresholdPostprocessor : ISegmentationPostprocessor
{
    public void Postprocess(ReadOnlySpan<float> output, TileLayout layout, ModelManifest manifest, InspectionResult result, Span<byte> classMap = default)
    {
        if (output[0] > 0)
        {
            result.AddDefect(new Defect(1, new PixelRect(0, 0, 1, 1), 1, 0, 0, 1, 1));
            result.Verdict = Verdict.Fail;
        }
        else
        {
            result.Verdict = Verdict.Pass;
        }
    }
}
