using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Shadow;
using EdgeRuntime.Inference.Tests.Support;
using EdgeRuntime.Vision.Preprocessing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeRuntime.Inference.Tests;

/// <summary>A shadow model beside the serving one in the real pipeline, on frames whose right answers are known.</summary>
public sealed class ShadowModelTests : IDisposable
{
    // Ten frames: two red squares (linear), two blue squares (blob), six clean (frames 2, 4, 5, 7, 9, 10).
    private static readonly Scene[] s_scenes =
        [Scene.Red, Scene.Clean, Scene.Blue, Scene.Clean, Scene.Clean, Scene.Red, Scene.Clean, Scene.Blue, Scene.Clean, Scene.Clean];

    private readonly ProviderHarness _active = new();
    private readonly ProviderHarness _shadow = new();
    private IReadOnlyList<InspectionResult> _published = [];

    public void Dispose()
    {
        _active.Dispose();
        _shadow.Dispose();
    }

    [Fact]
    public async Task IdenticalShadowModelAgreesOnEveryFrameWithMaskIoUOne()
    {
        ShadowStatus status = await RunAsync(ColourScenes.WritePackage(_shadow.Directory.Combine("same"), [], version: "1.0.0"));

        Assert.Equal(ModelPhase.Ready, status.Phase);
        Assert.Equal((10, 10, 0, 0, 10), (status.Sampled, status.Compared, status.Skipped, status.Errors, status.VerdictAgreements));
        Assert.Equal(1.0, status.AgreementRate);
        Assert.Equal(1.0, status.MeanMaskIoU);
        Assert.Empty(status.Disagreements);
        Assert.Equal("colour", status.Active!.Id);
    }

    [Fact]
    public async Task ShadowThatCallsEveryFrameFailAgreesExactlyOnTheDefectiveFramesAndKeepsTheLatestDisagreements()
    {
        // The same network with a class-1 threshold below what mid grey scores (about 5e-5): every pixel is a defect.
        string everythingFails = ColourScenes.WritePackage(_shadow.Directory.Combine("strict"), [], version: "1.1.0-strict",
            edit: manifest => manifest["classes"]![1]!["threshold"] = 0.00001);

        ShadowStatus status = await RunAsync(everythingFails, maxExamples: 4);

        Assert.Equal((10, 10, 0, 0, 4), (status.Sampled, status.Compared, status.Skipped, status.Errors, status.VerdictAgreements));
        Assert.Equal(0.4, status.AgreementRate);

        // Defective frames: the 64-pixel square against the whole 64x64 frame; clean frames: nothing against the whole frame.
        Assert.Equal(4 * (64.0 / 4096) / 10, status.MeanMaskIoU!.Value, 12);
        Assert.Equal(["0005-Clean", "0007-Clean", "0009-Clean", "0010-Clean"], status.Disagreements.Select(d => d.FrameId));
        Assert.All(status.Disagreements, d =>
        {
            Assert.Equal((Verdict.Pass, Verdict.Fail, 0, 1, 0.0), (d.ActiveVerdict, d.ShadowVerdict, d.ActiveDefects, d.ShadowDefects, d.MaskIoU));
            Assert.Equal(_published.Single(r => r.FrameId == d.FrameId).Sequence, d.Sequence);
        });
        Assert.Equal("1.1.0-strict", status.Shadow!.Version);
    }

    [Fact]
    public async Task ShadowNeverChangesTheVerdictsTheServingModelPublishes()
    {
        string everythingFails = ColourScenes.WritePackage(_shadow.Directory.Combine("strict"), [], version: "1.1.0-strict",
            edit: manifest => manifest["classes"]![1]!["threshold"] = 0.00001);

        await RunAsync(everythingFails);

        Assert.Equal(10, _published.Count);
        Assert.All(_published, result =>
        {
            bool defective = PipelineRig.SceneOf(result.FrameId) != Scene.Clean;
            Assert.Equal(ResultStatus.Inspected, result.Status);
            Assert.Equal("1.0.0", result.Model.Version);
            Assert.Equal(defective ? Verdict.Fail : Verdict.Pass, result.Verdict);
            Assert.Equal(defective ? 1 : 0, result.Defects.Count);
        });
    }

    [Fact]
    public async Task ShadowWithAnotherTilingJudgesItsOwnPreprocessingOfTheFrame()
    {
        // Another overlap means another input tensor: the shadow cannot share the serving model's, so it copies the frame.
        string retiled = ColourScenes.WritePackage(_shadow.Directory.Combine("retiled"), [], version: "1.2.0",
            edit: manifest => manifest["tiling"]!["overlap"] = 4);
        Assert.True((await _shadow.LoadAsync(retiled)).Succeeded);
        Assert.False(ShadowModelRunner.SameInput(_shadow.Provider.Active!.Manifest, (await LoadActiveAsync()).Manifest));

        ShadowStatus status = await RunAsync(package: null);

        Assert.Equal((10, 10, 0), (status.Compared, status.VerdictAgreements, status.Errors));
        Assert.Equal(1.0, status.MeanMaskIoU);
    }

    [Fact]
    public async Task ShadowThatFallsBehindSkipsAndCountsFramesInsteadOfQueueingThem()
    {
        await LoadActiveAsync();
        Assert.True((await _shadow.LoadAsync(ColourScenes.WritePackage(_shadow.Directory.Combine("same"), []))).Succeeded);
        using var runner = Runner(fraction: 0.5, maxQueued: 1);
        using var rig = new PipelineRig(_active.Provider, s_scenes, frames: 10, observer: runner);

        // The shadow's loop is not running: it is as slow as a shadow can be.
        await rig.Pipeline.RunAsync(CancellationToken.None);
        ShadowStatus stalled = runner.Status;
        using var stop = new CancellationTokenSource();
        Task processing = runner.ProcessAsync(stop.Token);
        await WaitUntilAsync(() => runner.Status.Compared == 1);
        await stop.CancelAsync();
        await processing;

        Assert.Equal(10, rig.Pipeline.Ledger.Snapshot().Inspected);
        Assert.Equal((5, 0, 4), (stalled.Sampled, stalled.Compared, stalled.Skipped));
        ShadowStatus caughtUp = runner.Status;
        Assert.Equal(caughtUp.Sampled, caughtUp.Compared + caughtUp.Skipped);
    }

    [Fact]
    public async Task ChoosingAndCopyingFramesForTheShadowAllocatesNothingOnThePublishingThread()
    {
        Sessions.OnnxInferenceSession active = await LoadActiveAsync();
        Assert.True((await _shadow.LoadAsync(ColourScenes.WritePackage(_shadow.Directory.Combine("same"), []))).Succeeded);
        using ShadowModelRunner runner = Runner(fraction: 0.5, maxQueued: 2);
        using var stop = new CancellationTokenSource();
        Task processing = runner.ProcessAsync(stop.Token);
        using var frames = new Core.Frames.FramePool();
        using Core.Frames.Frame frame = ColourScenes.Frame(frames, "0001-Red", Scene.Red);
        var result = new InspectionResult();
        Core.Processing.InferenceBuffers? buffers = null;
        using Core.Processing.ModelLease lease = _active.Provider.Acquire();
        var inspector = new Core.Processing.FrameInspector(new ManifestPreprocessor(), Production.Postprocessor());
        Core.Tiling.TileLayout layout = inspector.Inspect(lease.Session, frame, ref buffers, result);
        Func<bool> drained = () => runner.Queued == 0;

        long allocated = 0;
        for (int i = 0; i < 60; i++)
        {
            // Every other frame is copied for the shadow; the first ten grow the buffers and are not measured.
            long before = GC.GetAllocatedBytesForCurrentThread();
            runner.OnPublished(new InspectedFrame(result, frame, lease.Session, layout, buffers!));
            allocated += i < 10 ? 0 : GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(SpinWait.SpinUntil(drained, TimeSpan.FromSeconds(30)), "the shadow stopped judging");
        }

        await stop.CancelAsync();
        await processing;
        buffers!.Dispose();

        Assert.Equal(0, allocated);
        Assert.Equal((30, 30, 0), (runner.Status.Sampled, runner.Status.Compared, runner.Status.Skipped));
        Assert.Equal(1.0, runner.Status.AgreementRate);
        Assert.Same(active, lease.Session);
    }

    private async Task<Sessions.OnnxInferenceSession> LoadActiveAsync()
    {
        if (_active.Provider.Active is null)
        {
            ModelLoadOutcome outcome = await _active.LoadAsync(ColourScenes.WritePackage(_active.Directory.Combine("active"), []));
            Assert.True(outcome.Succeeded, outcome.ToString());
        }

        return _active.Provider.Active!;
    }

    /// <summary>Runs the ten frames with <paramref name="package"/> as the shadow (null: already loaded) and returns the status once every sampled frame was judged.</summary>
    private async Task<ShadowStatus> RunAsync(string? package, int maxExamples = 20)
    {
        await LoadActiveAsync();
        if (package is not null)
        {
            ModelLoadOutcome loaded = await _shadow.LoadAsync(package);
            Assert.True(loaded.Succeeded, loaded.ToString());
        }

        using ShadowModelRunner runner = Runner(fraction: 1.0, maxQueued: 16, maxExamples);
        using var stop = new CancellationTokenSource();
        Task processing = runner.ProcessAsync(stop.Token);
        using var rig = new PipelineRig(_active.Provider, s_scenes, frames: 10, observer: runner);
        await rig.Pipeline.RunAsync(CancellationToken.None);
        await WaitUntilAsync(() => runner.Status is { } s && s.Compared + s.Errors + s.Skipped == s.Sampled && s.Sampled == 10);
        await stop.CancelAsync();
        await processing;

        LedgerSnapshot books = rig.Pipeline.Ledger.Snapshot();
        Assert.Equal(10, books.Inspected);
        Assert.Equal(0, books.InFlight);
        _published = rig.Sink.Results.Where(r => r.Status == ResultStatus.Inspected).ToList();
        return runner.Status;
    }

    private ShadowModelRunner Runner(double fraction, int maxQueued, int maxExamples = 20)
    {
        // The runner owns the shadow provider; disposing both is harmless (disposal is idempotent).
        var options = new ShadowOptions { Package = "shadow", Fraction = fraction, MaxQueued = maxQueued, MaxExamples = maxExamples };
        return new ShadowModelRunner(options, _shadow.Provider, new ManifestPreprocessor(), Production.Postprocessor(), TimeProvider.System,
            NullLogger<ShadowModelRunner>.Instance);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
