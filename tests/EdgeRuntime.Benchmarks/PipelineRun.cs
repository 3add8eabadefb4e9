using EdgeRuntime.Core.Pipeline;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// One running <see cref="InspectionPipeline"/>, fed in bursts: <see cref="BurstAsync"/> lets exactly N triggers in and
/// measures from that moment to the N-th result, ramp-up and drain included. Between bursts the pipeline is idle (every
/// stage waits on its queue), so the other side of a comparison runs alone. Disposing ends the triggers and waits for
/// the pipeline to stop. One burst at a time.
/// </summary>
internal sealed class PipelineRun : IAsyncDisposable
{
    private readonly InspectionPipeline _pipeline;
    private readonly BurstTrigger _trigger;
    private readonly PipelineLedger _ledger;
    private readonly MeasuringSink _sink;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public PipelineRun(InspectionPipeline pipeline, BurstTrigger trigger, PipelineLedger ledger, MeasuringSink sink)
    {
        _pipeline = pipeline;
        _trigger = trigger;
        _ledger = ledger;
        _sink = sink;
        _run = pipeline.RunAsync(_stop.Token);
    }

    /// <summary>
    /// Lets <paramref name="frames"/> triggers in and waits for their results. The measurement runs from the release to
    /// the last result, so the burst's ramp-up (the first frame has nothing to overlap with) and drain count against the
    /// pipeline: about one frame's preprocessing and postprocessing per burst, which longer bursts make negligible.
    /// </summary>
    /// <exception cref="BenchmarkException">The pipeline faulted, failed frames, or did not finish in time.</exception>
    public async Task<Throughput> BurstAsync(int frames, TimeSpan limit, CancellationToken cancellationToken)
    {
        _sink.Arm(frames);
        LedgerSnapshot before = _ledger.Snapshot();
        _trigger.Release(frames);
        _sink.Begin();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task expired = Task.Delay(limit, timeout.Token);
        Task first = await Task.WhenAny(_sink.Closed, _run, expired).ConfigureAwait(false);
        await timeout.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first == _run)
        {
            await FaultAsync().ConfigureAwait(false);
        }

        LedgerSnapshot after = _ledger.Snapshot();
        long failed = Failed(after) - Failed(before);
        if (failed > 0)
        {
            throw new BenchmarkException($"{failed} frames failed in the pipeline (processing, capture or no model); the figures would not describe the pipeline");
        }

        if (_sink.FailSafe > 0)
        {
            throw new BenchmarkException(
                $"{_sink.FailSafe} of {frames} frames got the fail-safe verdict ({after.DeadlineMissed - before.DeadlineMissed} deadline-missed, " +
                $"{after.Dropped - before.Dropped} dropped) instead of an inspection; the figures would not describe the pipeline");
        }

        if (!_sink.IsClosed)
        {
            throw new BenchmarkException(
                $"the pipeline published {_sink.Inspected} of {frames} results ({_sink.FailSafe} fail-safe) in {limit.TotalSeconds:F0} s " +
                $"({after.Triggers - before.Triggers} triggers, {after.Dropped - before.Dropped} dropped, {after.DeadlineMissed - before.DeadlineMissed} deadline-missed)");
        }

        return _sink.Result();
    }

    public async ValueTask DisposeAsync()
    {
        _trigger.End();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new BenchmarkException("the pipeline stopped on a fault: " + ex.Message, ex);
        }
        finally
        {
            _pipeline.Dispose();
            _stop.Dispose();
        }
    }

    private static long Failed(LedgerSnapshot books) =>
        books.DropsFor(DropReason.ProcessingFailed) + books.DropsFor(DropReason.CaptureFailed) + books.DropsFor(DropReason.NoModel);

    private async Task FaultAsync()
    {
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new BenchmarkException("the pipeline stopped on a fault: " + ex.Message, ex);
        }

        throw new BenchmarkException("the pipeline stopped by itself in the middle of a burst");
    }
}
