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

    private Rig Build(PipelineOptions options, TimeProvider time, TriggerPacingChoice pacing = TriggerPacingChoice.External, IInspectionObserver? observer = null)
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
            new PipelineLedger(), new LatencyStatistics(time), time, NullLogger<InspectionPipeline>.Instance, observer);
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
    public async Task TheObserverSeesEachInspectedFrameAfterItsResultIsPublishedAndItsFailureCostsNoResult()
    {
        var observer = new RecordingObserver();
        Rig rig = Build(new PipelineOptions { MaxInFlight = 4 }, TimeProvider.System, observer: observer);
        observer.Sink = rig.Sink;
        observer.Models = rig.Models;
        rig.Source.DefectEvery = 2;
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);

        for (int i = 0; i < 6; i++)
        {
            rig.Trigger.Fire();
            await WaitUntilAsync(() => observer.Seen.Count == i + 1);
        }

        await stop.CancelAsync();
        await run;

        // It saw every frame, with its lease still held, only after the sink had the result, and throwing changed nothing.
        Assert.Equal(6, rig.Sink.Results.Count);
        Assert.Equal(rig.Sink.Results.Select(r => (r.Sequence, r.Verdict)), observer.Seen.Select(s => (s.Sequence, s.Verdict)));
        Assert.Equal(3, observer.Seen.Count(s => s.Verdict == Verdict.Fail));
        Assert.All(observer.Seen, s => Assert.True(s.PublishedBefore && s.Leased));
        Assert.All(rig.Sink.Results, r => Assert.Equal(ResultStatus.Inspected, r.Status));
        Assert.Equal(6, rig.Pipeline.Ledger.Snapshot().Inspected);
        Assert.Equal(0, rig.Models.Leases);
    }

    private sealed class RecordingObserver : IInspectionObserver
    {
        public CollectingSink? Sink { get; set; }

        public FakeModelProvider? Models { get; set; }

        public List<(long Sequence, Verdict Verdict, bool PublishedBefore, bool Leased)> Seen { get; } = [];

        public void OnPublished(in InspectedFrame frame)
        {
            long sequence = frame.Result.Sequence;
            bool published = Sink!.Results.Any(r => r.Sequence == sequence);
            lock (Seen)
            {
                Seen.Add((sequence, frame.Result.Verdict, published, Models!.Leases > 0 && frame.Buffers.Owner == frame.Session));
            }

            throw new InvalidOperationException("an observer bug");
        }
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
