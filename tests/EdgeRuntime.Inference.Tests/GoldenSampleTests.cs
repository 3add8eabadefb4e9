using EdgeRuntime.Inference.Golden;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeRuntime.Inference.Tests;

/// <summary>Golden samples judged by the production preprocessing, model and postprocessing: at every load and while serving.</summary>
public sealed class GoldenSampleTests : IDisposable
{
    private readonly DriftingPreprocessor _preprocessor = new();
    private readonly ProviderHarness _harness;

    public GoldenSampleTests()
    {
        _harness = new ProviderHarness(golden: Production.Golden(_preprocessor));
    }

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task PackageWhoseGoldenSamplesGetTheirExpectedVerdictsLoadsAndReportsThem()
    {
        ModelLoadOutcome outcome = await _harness.LoadAsync(ColourScenes.WritePackage(_harness.Directory.Combine("good"), ColourScenes.TrueSamples));

        Assert.True(outcome.Succeeded, outcome.ToString());
        ModelProviderState state = _harness.Provider.State;
        Assert.Equal(ModelPhase.Ready, state.Phase);
        Assert.NotNull(state.Golden);
        Assert.True(state.Golden.Passed);
        Assert.Equal(3, state.Golden.Samples);
        Assert.Equal("colour", state.Golden.Model.Id);
        Assert.Contains(_harness.Logger.Entries, e => e.EventId == 115 && e.Message.Contains("all 3 golden samples", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CandidateWhoseGoldenSamplesExpectOtherVerdictsIsRefusedNamingEachImageAndTheActiveModelKeepsServing()
    {
        Assert.True((await _harness.LoadAsync(ColourScenes.WritePackage(_harness.Directory.Combine("serving"), ColourScenes.TrueSamples))).Succeeded);
        string wrong = ColourScenes.WritePackage(_harness.Directory.Combine("wrong"),
        [
            new("red.png", Scene.Red, "FAIL", ["blob"]),
            new("blue.png", Scene.Blue, "FAIL", ["blob"]),
            new("clean.png", Scene.Clean, "FAIL"),
        ], version: "2.0.0");

        ModelLoadOutcome outcome = await _harness.LoadAsync(wrong);

        Assert.False(outcome.Succeeded);
        Assert.Equal(ModelLoadStage.GoldenSamples, outcome.FailedStage);
        Assert.Equal(
            [
                "golden/red.png: expected FAIL [blob], got FAIL [linear] (1 defect)",
                "golden/clean.png: expected FAIL, got PASS (0 defects)",
            ],
            outcome.Problems);
        ModelProviderState state = _harness.Provider.State;
        Assert.Equal(ModelPhase.Ready, state.Phase);
        Assert.Equal("1.0.0", state.Active!.Version);
        Assert.Contains("refused (GoldenSamples): golden/red.png: expected FAIL [blob], got FAIL [linear]", state.LastFailure, StringComparison.Ordinal);
        using var lease = _harness.Provider.Acquire();
        Assert.Equal("1.0.0", lease.Session.Identity.Version);
    }

    [Fact]
    public async Task TamperedGoldenImageIsRefusedLikeATamperedModel()
    {
        string package = ColourScenes.WritePackage(_harness.Directory.Combine("tampered"), ColourScenes.TrueSamples);
        File.WriteAllBytes(Path.Combine(package, "golden", "clean.png"), ColourScenes.Png(Scene.Red));

        ModelLoadOutcome outcome = await _harness.LoadAsync(package);

        Assert.Equal(ModelLoadStage.Package, outcome.FailedStage);
        string problem = Assert.Single(outcome.Problems);
        Assert.StartsWith("golden/clean.png has SHA-256 ", problem, StringComparison.Ordinal);
        Assert.Contains("goldenSamples[2].sha256", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PeriodicCheckOfAModelThatStartsToDisagreeRaisesTheDegradedAlarmWithTheReasonAndAPassingCheckClearsIt()
    {
        Assert.True((await _harness.LoadAsync(ColourScenes.WritePackage(_harness.Directory.Combine("good"), ColourScenes.TrueSamples))).Succeeded);
        GoldenCheckReport? agreeing = await _harness.Provider.CheckGoldenSamplesAsync(CancellationToken.None);

        _preprocessor.Drifting = true;
        _harness.Time.Advance(TimeSpan.FromMinutes(5));
        GoldenCheckReport? disagreeing = await _harness.Provider.CheckGoldenSamplesAsync(CancellationToken.None);
        ModelProviderState degraded = _harness.Provider.State;
        using (var lease = _harness.Provider.Acquire())
        {
            // An alarm, not an outage: the model keeps serving while an operator looks.
            Assert.Equal("colour", lease.Session.Identity.Id);
        }

        _preprocessor.Drifting = false;
        GoldenCheckReport? recovered = await _harness.Provider.CheckGoldenSamplesAsync(CancellationToken.None);

        Assert.True(agreeing!.Passed);
        Assert.False(disagreeing!.Passed);
        Assert.Contains("golden/clean.png: expected PASS, got FAIL", string.Join("; ", disagreeing.Problems), StringComparison.Ordinal);
        Assert.Equal(ModelPhase.Degraded, degraded.Phase);
        Assert.Same(disagreeing, degraded.Golden);
        Assert.Contains($"DEGRADED: its golden check at {_harness.Time.GetUtcNow():u} failed: ", degraded.Message, StringComparison.Ordinal);
        Assert.Contains("golden/clean.png: expected PASS, got FAIL", degraded.Message, StringComparison.Ordinal);
        Assert.Contains(_harness.Logger.Entries, e => e.EventId == 116 && e.Level == LogLevel.Error);
        Assert.True(recovered!.Passed);
        Assert.Equal(ModelPhase.Ready, _harness.Provider.State.Phase);
        Assert.Contains(_harness.Logger.Entries, e => e.EventId == 117);
    }

    [Fact]
    public async Task TheServiceRunsTheCheckEachTimeItsIntervalPassesOnTheClock()
    {
        Assert.True((await _harness.LoadAsync(ColourScenes.WritePackage(_harness.Directory.Combine("good"), ColourScenes.TrueSamples))).Succeeded);
        using var service = new GoldenCheckService(_harness.Provider, Microsoft.Extensions.Options.Options.Create(new ModelOptions { GoldenCheckMinutes = 10 }),
            _harness.Time, NullLogger<GoldenCheckService>.Instance);
        await service.StartAsync(CancellationToken.None);
        DateTimeOffset loadCheck = _harness.Provider.State.Golden!.CheckedUtc;

        _preprocessor.Drifting = true;
        _harness.Time.Advance(TimeSpan.FromMinutes(9));
        ModelProviderState before = _harness.Provider.State;
        _harness.Time.Advance(TimeSpan.FromMinutes(1));
        await WaitUntilAsync(() => _harness.Provider.State.Phase == ModelPhase.Degraded);
        await service.StopAsync(CancellationToken.None);

        Assert.Equal(ModelPhase.Ready, before.Phase);
        Assert.Equal(loadCheck, before.Golden!.CheckedUtc);
        Assert.Equal(loadCheck + TimeSpan.FromMinutes(10), _harness.Provider.State.Golden!.CheckedUtc);
    }

    [Fact]
    public async Task ALoadBesideTheServingModelReportsEachStepUpToTheGoldenSampleBeingJudged()
    {
        using var decoder = new GatedDecoder();
        using var harness = new ProviderHarness(golden: Production.Golden(decoder: decoder));
        string first = ColourScenes.WritePackage(harness.Directory.Combine("first"), []);
        Assert.True((await harness.LoadAsync(first)).Succeeded);
        string second = ColourScenes.WritePackage(harness.Directory.Combine("second"), ColourScenes.TrueSamples, version: "2.0.0");

        Task<ModelLoadOutcome> swap = harness.LoadAsync(second);
        Assert.True(decoder.Entered.Wait(TimeSpan.FromSeconds(30)));
        harness.Time.Advance(TimeSpan.FromSeconds(4));
        ModelProviderState swapping = harness.Provider.State;
        decoder.Open();
        Assert.True((await swap).Succeeded);

        Assert.Equal(ModelPhase.Ready, swapping.Phase);
        Assert.Equal("1.0.0", swapping.Active!.Version);
        Assert.Equal(
            new ModelLoadProgress(second, ModelPhase.Warming, "step 4 of 4: checking golden samples (1 of 3: golden/red.png)", TimeSpan.FromSeconds(4), 4, 4, ModelLoadSteps.Golden),
            swapping.Load);
        Assert.EndsWith($"; loading {second} beside it, step 4 of 4: checking golden samples (1 of 3: golden/red.png), 4 s", swapping.Message, StringComparison.Ordinal);
        Assert.Equal("2.0.0", harness.Provider.State.Active!.Version);
        Assert.DoesNotContain("loading", harness.Provider.State.Message, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
