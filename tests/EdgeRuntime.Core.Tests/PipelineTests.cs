using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace EdgeRuntime.Core.Tests;

public sealed class PipelineTests : IDisposable
{
    private readonly string _stateDirectory = Directory.CreateTempSubdirectory("edge-pipeline-").FullName;
    private readonly FramePool _frames = new();

    public void Dispose()
    {
        _frames.Dispose();
        Directory.Delete(_stateDirectory, recursive: true);
    }

    private sealed record Rig(
        InspectionPipeline Pipeline,
        ManualTrigger Trigger,
        CountingFrameSource Source,
        FakeSession Session,
        FakeModelProvider Models,
        CollectingSink Sink);

    private Rig Build(PipelineOptions options, TimeProvider time, TriggerPacingChoice pacing = TriggerPacingChoice.External)
    {
        options.StateDirectory = _stateDirectory;
        var trigger = new ManualTrigger(time, pacing == TriggerPacingChoice.OnDemand ? Triggers.TriggerPacing.OnDemand : Triggers.TriggerPacing.External);
        var source = new CountingFrameSource(_frames);
        var session = new FakeSession(TestManifests.Fake());
        var models = new FakeModelProvider(session);
        var sink = new CollectingSink();
        var pipeline = new InspectionPipeline(
            trigger, source, models, new FirstPixelPreprocessor(), new ThresholdPostprocessor(), [sink],
            MsOptions.Create(options), new PersistentSequence(_stateDirectory, options.SequenceReserveBlock),
            new PipelineLedger(), new LatencyStatistics(time), time, NullLogger<InspectionPipeline>.Instance);
        return new Rig(pipeline, trigger, source, session, models, sink);
    }

    internal enum TriggerPacingChoice
    {
        External,
        OnDemand,
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    [Fact]
    public async Task EveryTriggerIsPublishedOnceInOrderWithIncreasingSequence()
    {
        Rig rig = Build(new PipelineOptions { MaxInFlight = 4 }, TimeProvider.System);
        rig.Source.DefectEvery = 3;
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);

        for (int i = 0; i < 30; i++)
        {
            rig.Trigger.Fire();
            await WaitUntilAsync(() => rig.Sink.Results.Count == i + 1);
        }

        await stop.CancelAsync();
        await run;

        IReadOnlyList<InspectionResult> results = rig.Sink.Results;
        Assert.Equal(30, results.Count);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), results.Select(r => r.Sequence));
        Assert.All(results, r => Assert.Equal(ResultStatus.Inspected, r.Status));
        Assert.Equal(10, results.Count(r => r.Verdict == Verdict.Fail));
        Assert.All(results.Where(r => r.Verdict == Verdict.Fail), r => Assert.Equal("linear", r.ClassName(r.Defects[0].ClassIndex)));
        LedgerSnapshot books = rig.Pipeline.Ledger.Snapshot();
        Assert.Equal(30, books.Triggers);
        Assert.Equal(30, books.Inspected);
        Assert.Equal(0, books.InFlight);
        Assert.Equal(0, rig.Models.Leases);
    }

    [Fact]
    public async Task TriggerStormAtTenTimesCapacityKeepsFramesBoundedAndAccountsForEveryTrigger()
    {
        var options = new PipelineOptions { MaxInFlight = 4, DeadlineMs = 60_000 };
        Rig rig = Build(options, TimeProvider.System);
        using var gate = new SemaphoreSlim(0);
        rig.Session.Gate = gate;
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);

        int maxInFlight = 0;
        const int Storm = 400;
        for (int burst = 0; burst < 40; burst++)
        {
            rig.Trigger.Fire(Storm / 40);
            gate.Release(1); // the "model" finishes one frame per burst of ten triggers: 10x overload
            await Task.Delay(2);
            maxInFlight = Math.Max(maxInFlight, rig.Pipeline.Depths.InFlight);
        }

        gate.Release(1000);
        await WaitUntilAsync(() => rig.Pipeline.Ledger.Snapshot().Triggers == Storm && rig.Sink.Results.Count == Storm);
        await stop.CancelAsync();
        await run;

        LedgerSnapshot books = rig.Pipeline.Ledger.Snapshot();
        Assert.True(maxInFlight <= options.MaxInFlight, $"{maxInFlight} frames in flight with a limit of {options.MaxInFlight}");
        Assert.Equal(Storm, books.Triggers);
        Assert.Equal(0, books.InFlight);
        Assert.True(books.Dropped > Storm / 2, $"only {books.Dropped} drops in a 10x storm");
        Assert.Equal(Storm, books.Inspected + books.Dropped + books.DeadlineMissed);
        Assert.True(rig.Source.Captured < Storm, "every trigger was captured although the pipeline was overloaded");

        // Every trigger gets exactly one published result; dropped ones carry the fail-safe verdict and their reason.
        IReadOnlyList<InspectionResult> results = rig.Sink.Results;
        Assert.Equal(Storm, results.Select(r => r.Sequence).Distinct().Count());
        Assert.All(results.Where(r => r.Status == ResultStatus.Dropped), r =>
        {
            Assert.Equal(Verdict.Fail, r.Verdict);
            Assert.False(string.IsNullOrEmpty(r.Reason));
        });
        Assert.Equal(books.Dropped, results.Count(r => r.Status == ResultStatus.Dropped));
    }

    [Fact]
    public async Task FreeRunPacingDropsNothingEvenWhenTheModelIsSlow()
    {
        Rig rig = Build(new PipelineOptions { MaxInFlight = 2, DeadlineMs = 60_000 }, TimeProvider.System, TriggerPacingChoice.OnDemand);
        using var gate = new SemaphoreSlim(0);
        rig.Session.Gate = gate;
        rig.Trigger.Fire(50);
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);

        for (int i = 0; i < 20; i++)
        {
            gate.Release();
            await WaitUntilAsync(() => rig.Sink.Results.Count == i + 1);
        }

        gate.Release(1000);
        await stop.CancelAsync();
        await run;

        LedgerSnapshot books = rig.Pipeline.Ledger.Snapshot();
        Assert.Equal(0, books.Dropped);
        Assert.Equal(books.Triggers, books.Inspected);
    }

    [Fact]
    public async Task TriggerWithoutVerdictByItsDeadlineGetsTheFailSafeVerdictExactlyOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        Rig rig = Build(new PipelineOptions { MaxInFlight = 2, DeadlineMs = 500 }, time);
        using var gate = new SemaphoreSlim(0);
        rig.Session.Gate = gate;
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);

        rig.Trigger.Fire();
        await WaitUntilAsync(() => rig.Source.Captured == 1);
        time.Advance(TimeSpan.FromMilliseconds(499));
        await Task.Delay(50);
        Assert.Empty(rig.Sink.Results);

        time.Advance(TimeSpan.FromMilliseconds(2));
        await WaitUntilAsync(() => rig.Sink.Results.Count == 1);
        InspectionResult failSafe = rig.Sink.Results[0];
        Assert.Equal(ResultStatus.DeadlineMissed, failSafe.Status);
        Assert.Equal(Verdict.Fail, failSafe.Verdict);
        Assert.Equal(1, failSafe.Sequence);

        // The model's late answer is not published a second time.
        gate.Release(10);
        await WaitUntilAsync(() => rig.Pipeline.Ledger.Snapshot().LateResults == 1);
        await stop.CancelAsync();
        await run;
        Assert.Single(rig.Sink.Results);
        LedgerSnapshot books = rig.Pipeline.Ledger.Snapshot();
        Assert.Equal(1, books.DeadlineMissed);
        Assert.Equal(0, books.Inspected);
        Assert.Equal(0, books.InFlight);
    }

    [Fact]
    public async Task PassFailSafeVerdictIsUsedWhenConfigured()
    {
        Rig rig = Build(new PipelineOptions { MaxInFlight = 2, FailSafeVerdict = Verdict.Pass }, TimeProvider.System);
        rig.Source.FailingFrames.Add(1);
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);
        rig.Trigger.Fire();
        await WaitUntilAsync(() => rig.Sink.Results.Count == 1);
        await stop.CancelAsync();
        await run;

        InspectionResult result = rig.Sink.Results[0];
        Assert.Equal(ResultStatus.Error, result.Status);
        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Equal("capture-failed", result.Reason);
        Assert.Equal(1, rig.Pipeline.Ledger.Snapshot().DropsFor(DropReason.CaptureFailed));
    }

    [Fact]
    public async Task StoppingFlushesFramesAlreadyInFlightAsInspectedResults()
    {
        // Queues deep enough that the three frames never overflow one: this test is about the drain, not the policy.
        var roomy = new QueueOptions { Capacity = 4, Policy = OverloadPolicy.DropOldest };
        Rig rig = Build(
            new PipelineOptions { MaxInFlight = 4, DeadlineMs = 60_000, PreprocessQueue = roomy, InferenceQueue = roomy, PostprocessQueue = roomy },
            TimeProvider.System);
        using var gate = new SemaphoreSlim(0);
        rig.Session.Gate = gate;
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);
        rig.Trigger.Fire(3);
        await WaitUntilAsync(() => rig.Source.Captured == 3);

        await stop.CancelAsync();
        gate.Release(10);
        await run;

        Assert.Equal(3, rig.Sink.Results.Count);
        Assert.All(rig.Sink.Results, r => Assert.True(r.Status == ResultStatus.Inspected, $"{r.FrameId}: {r.Status} {r.Reason}"));
        Assert.Equal(3, rig.Sink.FramesSeen);
        Assert.Equal(0, rig.Pipeline.Ledger.Snapshot().InFlight);
    }

    [Fact]
    public async Task NoModelLoadedGivesFailSafeResultsAndKeepsRunning()
    {
        Rig rig = Build(new PipelineOptions { MaxInFlight = 2 }, TimeProvider.System);
        rig.Models.Session = null;
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);
        rig.Trigger.Fire();
        await WaitUntilAsync(() => rig.Sink.Results.Count == 1);
        rig.Models.Session = rig.Session;
        rig.Trigger.Fire();
        await WaitUntilAsync(() => rig.Sink.Results.Count == 2);
        await stop.CancelAsync();
        await run;

        Assert.Equal("no-model", rig.Sink.Results[0].Reason);
        Assert.Equal(ResultStatus.Inspected, rig.Sink.Results[1].Status);
    }
}
