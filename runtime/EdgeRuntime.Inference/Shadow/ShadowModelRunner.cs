using System.Threading.Channels;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.ModelPackages.Manifest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeRuntime.Inference.Shadow;

/// <summary>
/// A candidate model judging a share of the frames beside the serving one (A/B), to see how it would do before it is
/// promoted (<see cref="OnnxModelProvider.SwapAsync"/> with its package). It sees each frame only after its verdict was
/// published (<see cref="IInspectionObserver"/>), copies what it needs into one of a fixed number of its own buffers
/// and judges it on its own thread, so it never changes or delays a verdict; a chosen frame that finds every buffer
/// still waiting for the shadow is skipped and counted, never queued. Where both models take the same input (size,
/// channels, normalisation, tiling) the shadow runs on the serving model's preprocessed tensor; otherwise on a copy of
/// the frame through its own preprocessing. <see cref="Status"/> reports verdict agreement, mean any-defect mask IoU and
/// the latest disagreements.
/// </summary>
/// <remarks>
/// <see cref="OnPublished"/> is called by the pipeline's publish stage only (one frame at a time) and allocates nothing
/// once the buffers have grown to the frame size. <see cref="Status"/> is thread-safe. The runner owns the shadow
/// <see cref="OnnxModelProvider"/> it is given and disposes it.
/// </remarks>
public sealed partial class ShadowModelRunner : BackgroundService, IInspectionObserver
{
    private const int PartsPerMillion = 1_000_000;

    private readonly ShadowOptions _options;
    private readonly OnnxModelProvider _shadow;
    private readonly IFramePreprocessor _preprocessor;
    private readonly ISegmentationPostprocessor _postprocessor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _samplePpm;
    private readonly Channel<Pending> _queue;
    private readonly Stack<Pending> _free;
    private readonly FramePool _frames;
    private readonly Lock _gate = new();
    private readonly Queue<ShadowDisagreement> _examples;

    // Shadow loop state (one thread).
    private readonly InspectionResult _activeResult = new();
    private readonly InspectionResult _shadowResult = new();
    private InferenceBuffers? _buffers;
    private byte[] _activeMap = [];
    private byte[] _shadowMap = [];

    // Publish stage state (one thread).
    private long _credit;
    private ModelManifest? _sharedActive;
    private ModelManifest? _sharedShadow;
    private bool _shared;

    // Under _gate.
    private ModelIdentity? _pairActive;
    private ModelIdentity? _pairShadow;
    private long _sampled;
    private long _compared;
    private long _skipped;
    private long _errors;
    private long _agreed;
    private double _iouSum;
    private DateTimeOffset? _since;

    /// <param name="options">The <c>Model:Shadow</c> section.</param>
    /// <param name="shadow">A provider configured with the shadow package (<see cref="ModelOptions.Package"/> = <see cref="ShadowOptions.Package"/>); owned by the runner.</param>
    /// <param name="preprocessor">The production preprocessing (for frames whose input the shadow cannot share).</param>
    /// <param name="postprocessor">The production postprocessing, applied to both models' output.</param>
    /// <param name="timeProvider">Clock.</param>
    /// <param name="logger">Log.</param>
    public ShadowModelRunner(ShadowOptions options, OnnxModelProvider shadow, IFramePreprocessor preprocessor, ISegmentationPostprocessor postprocessor,
        TimeProvider timeProvider, ILogger<ShadowModelRunner> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxQueued);
        _options = options;
        _shadow = shadow;
        _preprocessor = preprocessor;
        _postprocessor = postprocessor;
        _time = timeProvider;
        _logger = logger;
        _samplePpm = (int)Math.Round(Math.Clamp(options.Fraction, 0, 1) * PartsPerMillion);
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.MaxQueued) { SingleReader = true, SingleWriter = true });
        _free = new Stack<Pending>(options.MaxQueued);
        for (int i = 0; i < options.MaxQueued; i++)
        {
            _free.Push(new Pending());
        }

        _frames = new FramePool(options.MaxQueued);
        _examples = new Queue<ShadowDisagreement>(Math.Max(1, options.MaxExamples));
    }

    /// <summary>The shadow provider (its state, and its session for status displays).</summary>
    public OnnxModelProvider Models => _shadow;

    /// <summary>A snapshot of the comparison.</summary>
    public ShadowStatus Status
    {
        get
        {
            ModelProviderState state = _shadow.State;
            lock (_gate)
            {
                return new ShadowStatus(
                    _options.Package ?? string.Empty, state.Phase, state.Message, state.Active, _pairActive, _options.Fraction,
                    _sampled, _compared, _skipped, _errors, _agreed,
                    _compared == 0 ? null : (double)_agreed / _compared,
                    _compared == 0 ? null : _iouSum / _compared,
                    [.. _examples], _since);
            }
        }
    }

    /// <summary>Frames copied and waiting for (or being judged by) the shadow model now.</summary>
    internal int Queued
    {
        get
        {
            lock (_gate)
            {
                return _options.MaxQueued - _free.Count;
            }
        }
    }

    /// <summary>Loads the shadow package (the same checks as any load, golden samples included).</summary>
    public Task<ModelLoadOutcome> LoadAsync(CancellationToken cancellationToken) => _shadow.LoadConfiguredAsync(cancellationToken);

    /// <inheritdoc />
    public void OnPublished(in InspectedFrame frame)
    {
        if (_samplePpm == 0 || _shadow.Active is not { } shadowSession)
        {
            return;
        }

        // Every n-th frame, evenly spread, and exactly reproducible: no random numbers on the line.
        _credit += _samplePpm;
        if (_credit < PartsPerMillion)
        {
            return;
        }

        _credit -= PartsPerMillion;
        Pending? pending;
        lock (_gate)
        {
            _sampled++;
            if (!_free.TryPop(out pending))
            {
                _skipped++;
                return;
            }
        }

        pending.Fill(frame, ShareInput(frame.Session.Manifest, shadowSession.Manifest), _frames);
        if (!_queue.Writer.TryWrite(pending))
        {
            // Only after the loop has stopped: the queue holds as many items as there are buffers.
            Return(pending);
        }
    }

    /// <summary>Judges queued frames with the shadow model until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task ProcessAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (Pending pending in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    Compare(pending);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The shadow is a measurement: its failure is counted and logged, never passed to the line.
                    long errors;
                    lock (_gate)
                    {
                        errors = ++_errors;
                    }

                    if (errors == 1 || errors % 1000 == 0)
                    {
                        Log.ShadowFailed(_logger, ex, pending.Sequence, errors);
                    }
                }
                finally
                {
                    Return(pending);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ModelLoadOutcome outcome = await LoadAsync(stoppingToken).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            // The status shows the refusal; the serving model is unaffected.
            Log.ShadowRefused(_logger, outcome.ToString());
            return;
        }

        Log.ShadowServing(_logger, outcome.Identity!.Id, outcome.Identity.Version, _options.Fraction);
        await ProcessAsync(stoppingToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        base.Dispose();
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out Pending? pending))
        {
            pending.Release();
        }

        _buffers?.Dispose();
        _buffers = null;
        _frames.Dispose();
        _shadow.Dispose();
    }

    /// <summary>
    /// True when the shadow model takes exactly the serving model's input tensor: same size, channels, colour order,
    /// layout, normalisation and tiling (tensor names may differ). Cached for the last pair of manifests.
    /// </summary>
    private bool ShareInput(ModelManifest active, ModelManifest shadow)
    {
        if (!ReferenceEquals(active, _sharedActive) || !ReferenceEquals(shadow, _sharedShadow))
        {
            _shared = SameInput(active, shadow);
            _sharedActive = active;
            _sharedShadow = shadow;
        }

        return _shared;
    }

    internal static bool SameInput(ModelManifest a, ModelManifest b)
    {
        InputSpec x = a.Input;
        InputSpec y = b.Input;
        return x.Layout == y.Layout && x.Width == y.Width && x.Height == y.Height && x.Channels == y.Channels
            && x.ColorOrder == y.ColorOrder && x.DataType == y.DataType && x.Resize == y.Resize
            && x.Normalization.Scale.Equals(y.Normalization.Scale)
            && x.Normalization.Mean.SequenceEqual(y.Normalization.Mean) && x.Normalization.Std.SequenceEqual(y.Normalization.Std)
            && Equals(a.Tiling, b.Tiling);
    }

    private void Compare(Pending pending)
    {
        using ModelLease lease = _shadow.Acquire();
        IInferenceSession session = lease.Session;
        ModelManifest manifest = session.Manifest;
        TileLayout layout;
        InferenceBuffers buffers;
        if (pending.Frame is { } frame)
        {
            layout = _preprocessor.GetLayout(frame.Width, frame.Height, manifest);
            buffers = session.Reuse(ref _buffers, layout.Count);
            _preprocessor.Preprocess(frame, layout, manifest, buffers.InputData);
        }
        else if (SameInput(pending.ActiveManifest!, manifest))
        {
            layout = pending.Layout!;
            buffers = session.Reuse(ref _buffers, layout.Count);
            pending.Input.AsSpan(0, pending.InputLength).CopyTo(buffers.InputData);
        }
        else
        {
            // The shadow model was replaced by one with another input between the copy and now: nothing to compare.
            throw new InvalidOperationException($"the shadow model changed its input while frame seq {pending.Sequence} waited; the frame was not judged");
        }

        session.Run(buffers, layout.Count);
        int pixels = layout.FrameWidth * layout.FrameHeight;
        Grow(ref _shadowMap, pixels);
        Grow(ref _activeMap, pixels);
        _shadowResult.Reset();
        _postprocessor.Postprocess(buffers.OutputData[..(layout.Count * buffers.Output.ElementCount)], layout, manifest, _shadowResult, _shadowMap.AsSpan(0, pixels));

        // The serving model's mask, from its own output with its own manifest: the verdict is the published one.
        _activeResult.Reset();
        _postprocessor.Postprocess(pending.Output.AsSpan(0, pending.OutputLength), pending.Layout!, pending.ActiveManifest!, _activeResult, _activeMap.AsSpan(0, pixels));
        double iou = AnyDefectIoU(_activeMap.AsSpan(0, pixels), _shadowMap.AsSpan(0, pixels));
        bool agree = pending.ActiveVerdict == _shadowResult.Verdict;

        lock (_gate)
        {
            if (!Equals(_pairActive, pending.ActiveModel) || !Equals(_pairShadow, session.Identity))
            {
                Log.PairStarted(_logger, pending.ActiveModel!.Id, pending.ActiveModel.Version, session.Identity.Id, session.Identity.Version);
                if (_pairActive is not null)
                {
                    // A new pair of models: the figures of the old pair say nothing about this one. What is queued now
                    // (this frame included) counts as sampled for the new pair.
                    _sampled = _options.MaxQueued - _free.Count;
                    _skipped = 0;
                    _errors = 0;
                    _compared = 0;
                    _agreed = 0;
                    _iouSum = 0;
                    _examples.Clear();
                }

                _pairActive = pending.ActiveModel;
                _pairShadow = session.Identity;
                _since = _time.GetUtcNow();
            }

            _compared++;
            _iouSum += iou;
            if (agree)
            {
                _agreed++;
            }
            else if (_options.MaxExamples > 0)
            {
                if (_examples.Count == _options.MaxExamples)
                {
                    _examples.Dequeue();
                }

                _examples.Enqueue(new ShadowDisagreement(pending.FrameId, pending.Sequence, pending.ActiveVerdict, _shadowResult.Verdict,
                    pending.ActiveDefects, _shadowResult.Defects.Count, iou));
            }
        }
    }

    /// <summary>|A ∩ B| / |A ∪ B| over pixels of any defect class; 1 when neither mask has a defect pixel.</summary>
    internal static double AnyDefectIoU(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        long intersection = 0;
        long union = 0;
        for (int i = 0; i < a.Length; i++)
        {
            bool x = a[i] != 0;
            bool y = b[i] != 0;
            intersection += x && y ? 1 : 0;
            union += x || y ? 1 : 0;
        }

        return union == 0 ? 1.0 : (double)intersection / union;
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }
    }

    private void Return(Pending pending)
    {
        pending.Release();
        lock (_gate)
        {
            _free.Push(pending);
        }
    }

    /// <summary>One frame copied for the shadow: the serving model's input and output, or the frame itself.</summary>
    private sealed class Pending
    {
        public float[] Input = [];
        public float[] Output = [];
        public int InputLength;
        public int OutputLength;
        public Frame? Frame;
        public TileLayout? Layout;
        public ModelManifest? ActiveManifest;
        public ModelIdentity? ActiveModel;
        public string FrameId = string.Empty;
        public long Sequence;
        public Verdict ActiveVerdict;
        public int ActiveDefects;

        /// <summary>Copies what the comparison needs; the buffers grow once to the frame's size and are reused after.</summary>
        public void Fill(in InspectedFrame frame, bool shareInput, FramePool frames)
        {
            InspectionResult result = frame.Result;
            InferenceBuffers buffers = frame.Buffers;
            FrameId = result.FrameId;
            Sequence = result.Sequence;
            ActiveVerdict = result.Verdict;
            ActiveDefects = result.Defects.Count;
            ActiveModel = frame.Session.Identity;
            ActiveManifest = frame.Session.Manifest;
            Layout = frame.Layout;
            OutputLength = frame.Layout.Count * buffers.Output.ElementCount;
            Grow(ref Output, OutputLength);
            buffers.OutputData[..OutputLength].CopyTo(Output);
            if (shareInput)
            {
                InputLength = frame.Layout.Count * buffers.Input.ElementCount;
                Grow(ref Input, InputLength);
                buffers.InputData[..InputLength].CopyTo(Input);
            }
            else
            {
                Frame source = frame.Frame;
                Frame copy = frames.Rent(source.Width, source.Height, source.Format);
                source.Pixels.CopyTo(copy.Pixels);
                copy.FrameId = source.FrameId;
                Frame = copy;
            }
        }

        public void Release()
        {
            Frame?.Dispose();
            Frame = null;
            Layout = null;
            ActiveManifest = null;
            ActiveModel = null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(130, LogLevel.Information, "Shadow model {ModelId} {Version} judges {Fraction:P1} of the inspected frames beside the serving model")]
        public static partial void ShadowServing(ILogger logger, string modelId, string version, double fraction);

        [LoggerMessage(131, LogLevel.Error, "The shadow model was refused; no comparison runs: {Outcome}")]
        public static partial void ShadowRefused(ILogger logger, string outcome);

        [LoggerMessage(132, LogLevel.Warning, "The shadow model failed on seq {Sequence} ({Errors} failures so far); the published verdicts are unaffected")]
        public static partial void ShadowFailed(ILogger logger, Exception exception, long sequence, long errors);

        [LoggerMessage(133, LogLevel.Information, "Shadow comparison restarts: serving {ActiveId} {ActiveVersion} vs shadow {ShadowId} {ShadowVersion}")]
        public static partial void PairStarted(ILogger logger, string activeId, string activeVersion, string shadowId, string shadowVersion);
    }
}
