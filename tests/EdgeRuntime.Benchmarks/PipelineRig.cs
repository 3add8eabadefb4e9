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
/// runtime's model provider, segmentation postprocessor, sinks), over one replay folder and one loaded model. An
/// <see cref="InspectionPipeline"/> runs once, so each round builds a fresh one around the shared, already-warm parts
/// (model, decoded-image cache, layouts). Rounds run one at a time. Owns the frame pool; not the model.
/// </summary>
internal sealed class PipelineRig : IDisposable
{
    private readonly ModelUnderTest _model;
    private readonly string _stateDirectory;
    private readonly ILoggerFactory _loggers;
    private readonly IResultSink[] _sinks;
    private readonly FramePool _pool = new();

    /// <param name="model">The loaded model.</param>
    /// <param name="replayFolder">Images to replay, looping.</param>
    /// <param name="stateDirectory">The pipeline's state folder (sequence numbers).</param>
    /// <param name="loggers">Loggers for the pipeline's parts.</param>
    /// <param name="sink">The measuring sink, published to last.</param>
    /// <param name="otherSinks">Sinks the service would publish to before it (the MQTT sink when it exists).</param>
    public PipelineRig(ModelUnderTest model, string replayFolder, string stateDirectory, ILoggerFactory loggers, MeasuringSink sink, IReadOnlyList<IResultSink> otherSinks)
    {
        _model = model;
        _stateDirectory = stateDirectory;
        _loggers = loggers;
        Sink = sink;
        _sinks = [.. otherSinks, sink];
        var source = new SourceOptions { Kind = SourceKind.Replay, Replay = new ReplayOptions { Directory = replayFolder, Loop = true } };
        Source = new ReplayFrameSource(Options.Create(source), _pool, TimeProvider.System, loggers.CreateLogger<ReplayFrameSource>());
        Postprocessor = new SegmentationPostprocessor(Options.Create(new InspectionOptions()), loggers.CreateLogger<SegmentationPostprocessor>());
    }

    public MeasuringSink Sink { get; }

    public ReplayFrameSource Source { get; }

    public ManifestPreprocessor Preprocessor { get; } = new();

    public SegmentationPostprocessor Postprocessor { get; }

    /// <summary>
    /// The pipeline options of every round: the service's defaults, except the state folder and a deadline long enough
    /// that no frame turns into a fail-safe result. Free-run fills all <see cref="PipelineOptions.MaxInFlight"/> slots,
    /// so a frame waits for the ones ahead of it; on this CPU that can pass the 2 s default deadline, and a missed
    /// deadline would drop the frame from the figures instead of measuring it.
    /// </summary>
    public PipelineOptions PipelineOptions => new() { StateDirectory = _stateDirectory, DeadlineMs = 600_000 };

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

    /// <summary>A trigger signal stamped now, for calling the source outside the pipeline.</summary>
    public static TriggerSignal Trigger() => new(TimeProvider.System.GetUtcNow(), TimeProvider.System.GetTimestamp(), "bench");

    /// <summary>
    /// Runs a fresh pipeline until the sink's window has closed, then stops it and lets it drain.
    /// </summary>
    /// <param name="window">Which results are measured.</param>
    /// <param name="maxRateHz">Free-run rate cap (0: as fast as the pipeline goes).</param>
    /// <param name="cancellationToken">Stops the round.</param>
    /// <exception cref="BenchmarkException">The pipeline faulted, or did not fill the window within its time limit.</exception>
    public async Task<(Throughput Window, LedgerSnapshot Books)> RunAsync(WindowSpec window, double maxRateHz, CancellationToken cancellationToken)
    {
        Sink.Arm(window);
        PipelineOptions options = PipelineOptions;
        var ledger = new PipelineLedger();
        var trigger = new FreeRunTrigger(Options.Create(new TriggerOptions { Kind = TriggerKind.FreeRun, MaxRateHz = maxRateHz }), TimeProvider.System);
        using var pipeline = new InspectionPipeline(trigger, Source, _model.Provider, Preprocessor, Postprocessor, _sinks, Options.Create(options),
            new PersistentSequence(options.StateDirectory, options.SequenceReserveBlock), ledger, new LatencyStatistics(TimeProvider.System),
            TimeProvider.System, _loggers.CreateLogger<InspectionPipeline>());

        // Leftovers of the previous round (its buffers) are collected now rather than inside this round's window.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        using var stop = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task run = pipeline.RunAsync(stop.Token);
        TimeSpan limit = TimeSpan.FromSeconds(120 + (window.Seconds * 4));
        Task timeout = Task.Delay(limit, linked.Token);
        await Task.WhenAny(Sink.Closed, run, timeout).ConfigureAwait(false);
        await linked.CancelAsync().ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await run.ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new BenchmarkException("the pipeline stopped on a fault: " + ex.Message, ex);
        }

        cancellationToken.ThrowIfCancellationRequested();
        LedgerSnapshot books = ledger.Snapshot();
        if (!Sink.IsClosed)
        {
            throw new BenchmarkException(
                $"the pipeline published {Sink.Inspected} inspected and {Sink.FailSafe} fail-safe results in {limit.TotalSeconds:F0} s without filling the window " +
                $"({books.Triggers} triggers, {books.Dropped} dropped, {books.DeadlineMissed} deadline-missed)");
        }

        return (Sink.Result(), books);
    }

    public void Dispose() => _pool.Dispose();
}
