using System.Threading.Channels;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Core.Triggers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Core.Pipeline;

/// <summary>
/// trigger -> capture -> preprocess -> infer -> postprocess -> publish, one loop per stage, joined by
/// bounded queues with explicit overload policies, so capture, inference and publishing overlap and memory
/// never grows past <see cref="PipelineOptions.MaxInFlight"/> frames. Every trigger ends in exactly one
/// published result: the model's verdict, or the fail-safe verdict when it is dropped, fails, or misses its
/// deadline. <see cref="RunAsync"/> is called once; stopping drains what is in flight.
/// </summary>
public sealed partial class InspectionPipeline : IDisposable
{
    private readonly ITriggerSource _trigger;
    private readonly IFrameSource _source;
    private readonly IModelProvider _models;
    private readonly IFramePreprocessor _preprocessor;
    private readonly ISegmentationPostprocessor _postprocessor;
    private readonly IResultSink[] _sinks;
    private readonly IInspectionObserver? _observer;
    private readonly PipelineOptions _options;
    private readonly PersistentSequence _sequence;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly JobPool _jobs;
    private readonly DeadlineMonitor _deadlines;
    private readonly StageQueue _triggerQueue;
    private readonly StageQueue _preprocessQueue;
    private readonly StageQueue _inferenceQueue;
    private readonly StageQueue _postprocessQueue;
    private readonly Channel<PublishItem> _publishQueue;
    private readonly InspectionResult _failSafeResult = new();
    private readonly long _deadlineTicks;
    private readonly ClassNameCache _classNames = new();
    private int _started;
    private CancellationTokenSource? _triggerStop;

    public InspectionPipeline(
        ITriggerSource trigger,
        IFrameSource source,
        IModelProvider models,
        IFramePreprocessor preprocessor,
        ISegmentationPostprocessor postprocessor,
        IEnumerable<IResultSink> sinks,
        IOptions<PipelineOptions> options,
        PersistentSequence sequence,
        PipelineLedger ledger,
        LatencyStatistics statistics,
        TimeProvider timeProvider,
        ILogger<InspectionPipeline> logger,
        IInspectionObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _trigger = trigger;
        _source = source;
        _models = models;
        _preprocessor = preprocessor;
        _postprocessor = postprocessor;
        _sinks = sinks.ToArray();
        _observer = observer;
        _options = options.Value;
        _sequence = sequence;
        Ledger = ledger;
        Statistics = statistics;
        _time = timeProvider;
        _logger = logger;
        _deadlineTicks = (long)(_options.DeadlineMs / 1000.0 * timeProvider.TimestampFrequency);
        _jobs = new JobPool(_options.MaxInFlight);
        _deadlines = new DeadlineMonitor(timeProvider, OnDeadlineMissed);
        _triggerQueue = new StageQueue(Paced(_options.TriggerQueue), DropReason.TriggerQueueFull, OnQueueDropped);
        _preprocessQueue = new StageQueue(Paced(_options.PreprocessQueue), DropReason.PreprocessQueueFull, OnQueueDropped);
        _inferenceQueue = new StageQueue(Paced(_options.InferenceQueue), DropReason.InferenceQueueFull, OnQueueDropped);
        _postprocessQueue = new StageQueue(Paced(_options.PostprocessQueue), DropReason.PostprocessQueueFull, OnQueueDropped);
        _publishQueue = Channel.CreateBounded<PublishItem>(
            new BoundedChannelOptions(_options.MaxInFlight + _options.FailSafeBacklog)
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.DropOldest,
            },
            OnPublishOverflow);
    }

    /// <summary>
    /// An on-demand (free-run) trigger has no outside clock to keep up with, so every queue applies back-pressure
    /// instead of dropping: the pipeline then runs at the pace of its slowest stage and loses nothing.
    /// </summary>
    private QueueOptions Paced(QueueOptions queue) =>
        _trigger.Pacing == TriggerPacing.OnDemand ? new QueueOptions { Capacity = queue.Capacity, Policy = OverloadPolicy.Block } : queue;

    /// <summary>The books: triggers, outcomes, drops by reason.</summary>
    public PipelineLedger Ledger { get; }

    /// <summary>Recent latencies and throughput.</summary>
    public LatencyStatistics Statistics { get; }

    /// <summary>Whether the frame source ran out of frames (the run ended by itself rather than by a stop request).</summary>
    public bool SourceEnded { get; private set; }

    /// <summary>Current depth of each queue, for health.</summary>
    public QueueDepths Depths => new(_triggerQueue.Count, _preprocessQueue.Count, _inferenceQueue.Count,
        _postprocessQueue.Count, _publishQueue.Reader.Count, _jobs.Size - _jobs.Free);

    /// <summary>
    /// Runs until <paramref name="stoppingToken"/> is cancelled, then stops taking triggers and flushes the
    /// frames in flight (bounded by <see cref="PipelineOptions.DrainTimeoutSeconds"/>). Faults when a stage
    /// hits an error it cannot recover from (a broken frame source or sink), so the service stops and its
    /// supervisor restarts it.
    /// </summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("the pipeline runs once");
        }

        using var abort = new CancellationTokenSource();
        using var deadlineStop = new CancellationTokenSource();
        CancellationToken hard = abort.Token;
        Task deadlines = Task.Run(() => RunDeadlinesAsync(deadlineStop.Token), CancellationToken.None);
        Task publish = Task.Run(() => PublishLoopAsync(hard), CancellationToken.None);
        Task post = Task.Run(PostprocessLoopAsync, CancellationToken.None);
        Task infer = Task.Run(() => InferenceLoopAsync(hard), CancellationToken.None);
        Task pre = Task.Run(() => PreprocessLoopAsync(hard), CancellationToken.None);
        Task capture = Task.Run(() => CaptureLoopAsync(hard), CancellationToken.None);
        Task[] stages = [capture, pre, infer, post];
        Log.Started(_logger, _trigger.Name, _source.Name, _options.MaxInFlight, _options.DeadlineMs);

        Exception? failure = null;
        using var triggerStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _triggerStop = triggerStop;
        try
        {
            Task triggers = TriggerLoopAsync(triggerStop.Token);
            Task first = await Task.WhenAny([triggers, .. stages, publish]).ConfigureAwait(false);
            if (first != triggers)
            {
                // A stage ended while triggers were still coming: only a fault does that.
                await first.ConfigureAwait(false);
            }

            await triggers.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (triggerStop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            failure = ex;
            Log.StageFailed(_logger, ex);
        }
        finally
        {
            _triggerQueue.Complete();
        }

        // Drain: each stage finishes what is queued, then completes the next queue.
        Task drained = Task.WhenAll(stages);
        TimeSpan drainTimeout = TimeSpan.FromSeconds(_options.DrainTimeoutSeconds);
        if (await Task.WhenAny(drained, Task.Delay(drainTimeout, _time, CancellationToken.None)).ConfigureAwait(false) != drained)
        {
            Log.DrainTimedOut(_logger, _options.DrainTimeoutSeconds);
            await abort.CancelAsync().ConfigureAwait(false);
        }

        failure ??= await CollectFailureAsync(drained).ConfigureAwait(false);
        await deadlineStop.CancelAsync().ConfigureAwait(false);
        await deadlines.ConfigureAwait(false);
        _publishQueue.Writer.TryComplete();
        failure ??= await CollectFailureAsync(publish).ConfigureAwait(false);
        LedgerSnapshot books = Ledger.Snapshot();
        Log.Stopped(_logger, books.Triggers, books.Inspected, books.DeadlineMissed, books.Dropped, books.InFlight);
        if (failure is not null)
        {
            throw new InvalidOperationException("the inspection pipeline stopped on a fault: " + failure.Message, failure);
        }
    }

    private static async Task<Exception?> CollectFailureAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private async Task TriggerLoopAsync(CancellationToken stoppingToken)
    {
        bool onDemand = _trigger.Pacing == TriggerPacing.OnDemand;
        IAsyncEnumerator<TriggerSignal> triggers = _trigger.ReadAllAsync(stoppingToken).GetAsyncEnumerator(stoppingToken);
        await using (triggers.ConfigureAwait(false))
        {
            while (true)
            {
                InspectionJob? reserved = null;
                if (onDemand)
                {
                    // Free-run: ask for the next frame only when there is room for it, so nothing is dropped.
                    reserved = await _jobs.RentAsync(stoppingToken).ConfigureAwait(false);
                    await _triggerQueue.WaitToWriteAsync(stoppingToken).ConfigureAwait(false);
                }

                bool more;
                try
                {
                    more = await triggers.MoveNextAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    more = false;
                }

                if (!more)
                {
                    if (reserved is not null)
                    {
                        _jobs.Return(reserved);
                    }

                    return;
                }

                TriggerSignal signal = triggers.Current;
                long sequence = _sequence.Next();
                Ledger.Triggered();
                if (reserved is null && !_jobs.TryRent(out reserved))
                {
                    Ledger.Dropped(DropReason.PipelineFull);
                    PostNotice(new FailSafeNotice(sequence, signal, ResultStatus.Dropped, DropReason.PipelineFull.Name(), string.Empty));
                    continue;
                }

                long generation = reserved.Start(signal, sequence, signal.Timestamp + _deadlineTicks);
                _deadlines.Track(reserved, generation);
                try
                {
                    await _triggerQueue.WriteAsync(reserved, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    // Stopped while a blocking queue was full: the counted trigger still gets its fail-safe verdict.
                    Fail(reserved, generation, DropReason.ShuttingDown, ResultStatus.Dropped);
                    throw;
                }
            }
        }
    }

    private async Task CaptureLoopAsync(CancellationToken hard)
    {
        try
        {
            await foreach (InspectionJob job in _triggerQueue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (Abandoned(job))
                {
                    continue;
                }

                long generation = job.Generation;
                try
                {
                    Frame frame = await _source.CaptureAsync(job.Trigger, hard).ConfigureAwait(false);
                    job.Frame = frame;
                    job.Result.FrameId = frame.FrameId;
                    job.Result.ImageWidth = frame.Width;
                    job.Result.ImageHeight = frame.Height;
                }
                catch (FrameSourceException ex)
                {
                    Log.CaptureFailed(_logger, job.Sequence, ex.Message);
                    Fail(job, generation, DropReason.CaptureFailed, ResultStatus.Error);
                    continue;
                }
                catch (OperationCanceledException) when (hard.IsCancellationRequested)
                {
                    Fail(job, generation, DropReason.ShuttingDown, ResultStatus.Dropped);
                    continue;
                }
                catch (EndOfFramesException ex)
                {
                    if (!SourceEnded)
                    {
                        SourceEnded = true;
                        Log.SourceEnded(_logger, ex.Message);
                        await _triggerStop!.CancelAsync().ConfigureAwait(false);
                    }

                    Fail(job, generation, DropReason.SourceEnded, ResultStatus.Dropped);
                    continue;
                }

                EndStage(job, PipelineStage.Capture);
                await _preprocessQueue.WriteAsync(job, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _preprocessQueue.Complete();
        }
    }

    private async Task PreprocessLoopAsync(CancellationToken hard)
    {
        try
        {
            await foreach (InspectionJob job in _preprocessQueue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (Abandoned(job) || !TryPreprocess(job))
                {
                    continue;
                }

                EndStage(job, PipelineStage.Preprocess);
                await _inferenceQueue.WriteAsync(job, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _inferenceQueue.Complete();
        }
    }

    private bool TryPreprocess(InspectionJob job)
    {
        long generation = job.Generation;
        Frame frame = job.Frame!;
        try
        {
            job.Lease = _models.Acquire();
            job.HasLease = true;
        }
        catch (InvalidOperationException ex)
        {
            Log.NoModel(_logger, job.Sequence, ex.Message);
            Fail(job, generation, DropReason.NoModel, ResultStatus.Error);
            return false;
        }

        IInferenceSession session = job.Lease.Session;
        try
        {
            job.Layout = _preprocessor.GetLayout(frame.Width, frame.Height, session.Manifest);
            InferenceBuffers buffers = session.Reuse(ref job.Buffers, job.Layout.Count);
            _preprocessor.Preprocess(frame, job.Layout, session.Manifest, buffers.InputData);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ProcessingFailed(_logger, ex, job.Sequence, PipelineStage.Preprocess);
            Fail(job, generation, DropReason.ProcessingFailed, ResultStatus.Error);
            return false;
        }
    }

    private async Task InferenceLoopAsync(CancellationToken hard)
    {
        try
        {
            await foreach (InspectionJob job in _inferenceQueue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (Abandoned(job))
                {
                    continue;
                }

                long generation = job.Generation;
                try
                {
                    job.Lease.Session.Run(job.Buffers!, job.Layout!.Count);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Log.ProcessingFailed(_logger, ex, job.Sequence, PipelineStage.Inference);
                    Fail(job, generation, DropReason.ProcessingFailed, ResultStatus.Error);
                    continue;
                }

                EndStage(job, PipelineStage.Inference);
                await _postprocessQueue.WriteAsync(job, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _postprocessQueue.Complete();
        }
    }

    private async Task PostprocessLoopAsync()
    {
        await foreach (InspectionJob job in _postprocessQueue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (Abandoned(job))
            {
                continue;
            }

            long generation = job.Generation;
            IInferenceSession session = job.Lease.Session;
            InferenceBuffers buffers = job.Buffers!;
            try
            {
                InspectionResult result = job.Result;
                result.Model = session.Identity;
                result.ClassNames = _classNames.Get(session);
                _postprocessor.Postprocess(buffers.OutputData[..(job.Layout!.Count * buffers.Output.ElementCount)], job.Layout, session.Manifest, result);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.ProcessingFailed(_logger, ex, job.Sequence, PipelineStage.Postprocess);
                Fail(job, generation, DropReason.ProcessingFailed, ResultStatus.Error);
                continue;
            }

            EndStage(job, PipelineStage.Postprocess);
            job.Result.Latencies.TotalMilliseconds = _time.GetElapsedTime(job.Trigger.Timestamp).TotalMilliseconds;
            job.Result.Status = ResultStatus.Inspected;
            if (!job.TryFinish(generation, JobState.Completed))
            {
                // The deadline already issued the fail-safe verdict for this trigger.
                Ledger.LateResult();
                _jobs.Return(job);
                continue;
            }

            Ledger.Inspected(job.Result.Verdict);
            if (!_publishQueue.Writer.TryWrite(new PublishItem(job)))
            {
                _jobs.Return(job);
            }
        }
    }

    private async Task PublishLoopAsync(CancellationToken hard)
    {
        await foreach (PublishItem item in _publishQueue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (item.Job is { } job)
            {
                try
                {
                    job.StageStartTimestamp = _time.GetTimestamp();
                    await PublishToSinksAsync(job.Result, job.Frame, hard).ConfigureAwait(false);
                    EndStage(job, PipelineStage.Publish);
                    Statistics.Record(job.Result.Latencies);
                    if (_observer is not null)
                    {
                        Observe(_observer, job);
                    }
                }
                finally
                {
                    _jobs.Return(job);
                }
            }
            else
            {
                FailSafeNotice notice = item.Notice;
                InspectionResult result = _failSafeResult;
                result.Reset();
                result.Sequence = notice.Sequence;
                result.Trigger = notice.Trigger;
                result.FrameId = notice.FrameId;
                result.Verdict = _options.FailSafeVerdict;
                result.Status = notice.Status;
                result.Reason = notice.Reason;
                result.Latencies.TotalMilliseconds = _time.GetElapsedTime(notice.Trigger.Timestamp).TotalMilliseconds;
                await PublishToSinksAsync(result, null, hard).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask PublishToSinksAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
    {
        foreach (IResultSink sink in _sinks)
        {
            // A sink owns its reliability (queues, retries, outbox); one that throws here is broken, which
            // stops the service so its supervisor can restart it rather than silently losing results.
            await sink.PublishAsync(result, frame, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>After the verdict is out, while the job still holds its frame, lease and tensors.</summary>
    private void Observe(IInspectionObserver observer, InspectionJob job)
    {
        if (job.Frame is not { } frame || !job.HasLease || job.Layout is not { } layout || job.Buffers is not { } buffers)
        {
            return;
        }

        try
        {
            observer.OnPublished(new InspectedFrame(job.Result, frame, job.Lease.Session, layout, buffers));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // An observer only watches: its failure is reported and costs the line nothing.
            Log.ObserverFailed(_logger, ex, job.Sequence);
        }
    }

    private async Task RunDeadlinesAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _deadlines.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private bool Abandoned(InspectionJob job)
    {
        if (job.State == JobState.InFlight)
        {
            job.StageStartTimestamp = job.StageStartTimestamp == 0 ? _time.GetTimestamp() : job.StageStartTimestamp;
            return false;
        }

        // Its deadline passed while it queued: the fail-safe verdict is out, so spend nothing more on it.
        Ledger.LateResult();
        _jobs.Return(job);
        return true;
    }

    private void EndStage(InspectionJob job, PipelineStage stage)
    {
        long now = _time.GetTimestamp();
        job.Result.Latencies[stage] = _time.GetElapsedTime(job.StageStartTimestamp, now).TotalMilliseconds;
        job.StageStartTimestamp = now;
    }

    private void Fail(InspectionJob job, long generation, DropReason reason, ResultStatus status)
    {
        if (job.TryFinish(generation, JobState.Dropped))
        {
            Ledger.Dropped(reason);
            PostNotice(new FailSafeNotice(job.Sequence, job.Trigger, status, reason.Name(), job.Result.FrameId));
        }

        _jobs.Return(job);
    }

    private void OnQueueDropped(InspectionJob job, DropReason reason) => Fail(job, job.Generation, reason, ResultStatus.Dropped);

    private void OnDeadlineMissed(InspectionJob job, long generation)
    {
        Ledger.DeadlineMissed();
        PostNotice(new FailSafeNotice(job.Sequence, job.Trigger, ResultStatus.DeadlineMissed, "deadline-missed", job.Result.FrameId));
    }

    private void PostNotice(in FailSafeNotice notice)
    {
        if (!_publishQueue.Writer.TryWrite(new PublishItem(notice)))
        {
            Ledger.FailSafeOverflow();
        }
    }

    private void OnPublishOverflow(PublishItem evicted)
    {
        Ledger.FailSafeOverflow();
        if (evicted.Job is { } job)
        {
            _jobs.Return(job);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _jobs.Dispose();
        _deadlines.Dispose();
        _triggerStop?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Pipeline started: trigger {Trigger}, source {Source}, {MaxInFlight} frames in flight at most, deadline {DeadlineMs} ms")]
        public static partial void Started(ILogger logger, string trigger, string source, int maxInFlight, int deadlineMs);

        [LoggerMessage(2, LogLevel.Information, "Pipeline stopped: {Triggers} triggers = {Inspected} inspected + {DeadlineMissed} deadline-missed + {Dropped} dropped + {InFlight} in flight")]
        public static partial void Stopped(ILogger logger, long triggers, long inspected, long deadlineMissed, long dropped, long inFlight);

        [LoggerMessage(3, LogLevel.Warning, "Frame for seq {Sequence} could not be captured: {Reason}")]
        public static partial void CaptureFailed(ILogger logger, long sequence, string reason);

        [LoggerMessage(4, LogLevel.Error, "Seq {Sequence} failed in {Stage}; it gets the fail-safe verdict")]
        public static partial void ProcessingFailed(ILogger logger, Exception exception, long sequence, PipelineStage stage);

        [LoggerMessage(5, LogLevel.Warning, "No model is ready for seq {Sequence}: {Reason}")]
        public static partial void NoModel(ILogger logger, long sequence, string reason);

        [LoggerMessage(6, LogLevel.Warning, "In-flight frames did not drain within {Seconds} s; the rest get the fail-safe verdict")]
        public static partial void DrainTimedOut(ILogger logger, int seconds);

        [LoggerMessage(8, LogLevel.Information, "The frame source ended ({Reason}); flushing what is in flight")]
        public static partial void SourceEnded(ILogger logger, string reason);

        [LoggerMessage(9, LogLevel.Warning, "The inspection observer failed on seq {Sequence}; the published result is unaffected")]
        public static partial void ObserverFailed(ILogger logger, Exception exception, long sequence);

        [LoggerMessage(7, LogLevel.Critical, "A pipeline stage failed; the pipeline stops")]
        public static partial void StageFailed(ILogger logger, Exception exception);
    }
}

/// <summary>Items waiting in each queue, and frames in flight.</summary>
public readonly record struct QueueDepths(int Trigger, int Preprocess, int Inference, int Postprocess, int Publish, int InFlight);
