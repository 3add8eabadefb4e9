using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Sources;
using EdgeRuntime.Hardware.Triggers;
using EdgeRuntime.Vision.Postprocessing;
using EdgeRuntime.Vision.Preprocessing;
using Microsoft.Extensions.Logging;
using Options = Microsoft.Extensions.Options.Options;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// The service's pipeline as <c>EdgeHost</c> composes it (replay source, free-run trigger, manifest preprocessor, the
/// runtime's model provider, segmentation postprocessor, sinks), over one replay folder and one loaded model. Each
/// <see cref="Start"/> makes a running <see cref="InspectionPipeline"/> around the shared, already-warm parts (model,
/// decoded-image cache, layouts). One run at a time. Owns the frame pool; not the model.
/// </summary>
internal sealed class PipelineRig : IDisposable
{
    private readonly ModelUnderTest _model;
    private readonly string _stateDirectory;
    private readonly ILoggerFactory _loggers;
    private readonly int _maxInFlight;
    private readonly FramePool _pool = new();

    /// <param name="model">The loaded model.</param>
    /// <param name="replayFolder">Images to replay, looping.</param>
    /// <param name="stateDirectory">The pipeline's state folder (sequence numbers).</param>
    /// <param name="loggers">Loggers for the pipeline's parts.</param>
    /// <param name="sink">The measuring sink, published to last.</param>
    /// <param name="maxInFlight">Frames in flight at most; null for the service's default.</param>
    public PipelineRig(ModelUnderTest model, string replayFolder, string stateDirectory, ILoggerFactory loggers, MeasuringSink sink, int? maxInFlight = null)
    {
        _model = model;
        _maxInFlight = maxInFlight ?? new PipelineOptions().MaxInFlight;
        _stateDirectory = stateDirectory;
        _loggers = loggers;
        Sink = sink;
        var source = new SourceOptions { Kind = SourceKind.Replay, Replay = new ReplayOptions { Directory = replayFolder, Loop = true } };
        Source = new ReplayFrameSource(Options.Create(source), _pool, TimeProvider.System, loggers.CreateLogger<ReplayFrameSource>());
        Postprocessor = new SegmentationPostprocessor(Options.Create(new InspectionOptions()), loggers.CreateLogger<SegmentationPostprocessor>());
    }

    public MeasuringSink Sink { get; }

    public ReplayFrameSource Source { get; }

    public ManifestPreprocessor Preprocessor { get; } = new();

    public SegmentationPostprocessor Postprocessor { get; }

    /// <summary>
    /// The pipeline options of a run: the service's defaults, except the state folder, the rig's in-flight limit and,
    /// unless <paramref name="serviceDeadline"/>, a deadline long enough that no frame turns into a fail-safe result.
    /// Free-run fills every in-flight slot, so a frame waits for the ones ahead of it; on this CPU that passes the 2 s
    /// default deadline, and a missed deadline would drop the frame from the figures instead of measuring it.
    /// </summary>
    private PipelineOptions PipelineOptionsFor(bool serviceDeadline) =>
        serviceDeadline
            ? new() { StateDirectory = _stateDirectory, MaxInFlight = _maxInFlight }
            : new() { StateDirectory = _stateDirectory, MaxInFlight = _maxInFlight, DeadlineMs = 600_000 };

    /// <summary>Frames in flight at most.</summary>
    public int MaxInFlight => _maxInFlight;

    /// <summary>Decodes every replay image once, so the rounds replay from the cache as the service does after its first pass.</summary>
    public async Task<(int Width, int Height)> PrimeAsync(CancellationToken cancellationToken)
    {
        int width = 0;
        int height = 0;
        for (int i = 0; i < Source.ImageCount; i++)
        {
            using Frame frame = await Source.CaptureAsync(Trigger(), cancellationToken).ConfigureAwait(false);
            (width, height) = (frame.Width, frame.Height);
        }

        if (Source.CachedImages != Source.ImageCount)
        {
            throw new BenchmarkException($"only {Source.CachedImages} of {Source.ImageCount} replay images fit the decode cache; the rounds would measure PNG decoding");
        }

        return (width, height);
    }

    /// <summary>
    /// Frames a warm-up needs before steady state: every in-flight slot used (each job has made its tensors) and every
    /// replay image judged once (pooled postprocessing buffers have grown to the largest defect map of the set).
    /// </summary>
    public int WarmupFrames => Source.ImageCount + MaxInFlight + 2;

    /// <summary>A trigger signal stamped now, for calling the source outside the pipeline.</summary>
    public static TriggerSignal Trigger() => new(TimeProvider.System.GetUtcNow(), TimeProvider.System.GetTimestamp(), "bench");

    /// <summary>Starts a pipeline that waits for bursts of triggers; the caller disposes it, which stops it.</summary>
    /// <param name="maxRateHz">Free-run rate cap (0: as fast as the pipeline goes).</param>
    /// <param name="otherSinks">Sinks the service would publish to before the measuring sink (MQTT), or none.</param>
    /// <param name="serviceDeadline">Keep the service's deadline (for runs whose frames never queue long).</param>
    public PipelineRun Start(double maxRateHz, IReadOnlyList<IResultSink> otherSinks, bool serviceDeadline = false)
    {
        PipelineOptions options = PipelineOptionsFor(serviceDeadline);
        var trigger = new BurstTrigger(new FreeRunTrigger(
            Options.Create(new TriggerOptions { Kind = TriggerKind.FreeRun, MaxRateHz = maxRateHz }), TimeProvider.System));
        var ledger = new PipelineLedger();
        var pipeline = new InspectionPipeline(trigger, Source, _model.Provider, Preprocessor, Postprocessor, [.. otherSinks, Sink],
            Options.Create(options), new PersistentSequence(options.StateDirectory, options.SequenceReserveBlock), ledger,
            new LatencyStatistics(TimeProvider.System), TimeProvider.System, _loggers.CreateLogger<InspectionPipeline>());
        return new PipelineRun(pipeline, trigger, ledger, Sink);
    }

    public void Dispose() => _pool.Dispose();
}
