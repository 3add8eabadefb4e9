using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Sessions;
using EdgeRuntime.Inference.Tests.Support;

namespace EdgeRuntime.Inference.Tests;

/// <summary>Hot swap under load: the real pipeline keeps running frames while the model is replaced.</summary>
public sealed class PipelineHotSwapTests : IDisposable
{
    private static readonly Scene[] s_scenes = [Scene.Red, Scene.Clean, Scene.Blue, Scene.Clean];
    private readonly ProviderHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task TwoSwapsWhileFramesRunDropNoFrameAndEveryLaterTriggerIsJudgedByTheNewModel()
    {
        string[] versions = ["1.0.0", "2.0.0", "3.0.0"];
        string[] packages = versions.Select(v => ColourScenes.WritePackage(_harness.Directory.Combine(v), [], version: v)).ToArray();
        Assert.True((await _harness.LoadAsync(packages[0])).Succeeded);
        var retired = new List<OnnxInferenceSession>();
        var swappedAt = new long[versions.Length];
        using var rig = new PipelineRig(_harness.Provider, s_scenes);
        using var stop = new CancellationTokenSource();
        Task run = rig.Pipeline.RunAsync(stop.Token);

        await WaitForResultsAsync(rig, versions[0]);
        for (int next = 1; next < versions.Length; next++)
        {
            retired.Add(_harness.Provider.Active!);
            ModelLoadOutcome outcome = await _harness.Provider.SwapAsync(packages[next], CancellationToken.None);
            Assert.True(outcome.Succeeded, outcome.ToString());

            // Every trigger handed out from now on finds the new model when it takes its lease.
            swappedAt[next] = rig.Trigger.Emitted;
            await WaitForResultsAsync(rig, versions[next]);
        }

        await stop.CancelAsync();
        await run;

        IReadOnlyList<InspectionResult> results = rig.Sink.Results;
        LedgerSnapshot books = rig.Pipeline.Ledger.Snapshot();
        Assert.Equal(books.Triggers, books.Inspected);
        Assert.Equal((0L, 0L, 0L, 0L), (books.Dropped, books.DeadlineMissed, books.LateResults, books.InFlight));
        Assert.Equal(books.Inspected, results.Count);
        Assert.All(results, result =>
        {
            Assert.Equal(ResultStatus.Inspected, result.Status);
            Assert.Equal(PipelineRig.SceneOf(result.FrameId) == Scene.Clean ? Verdict.Pass : Verdict.Fail, result.Verdict);
            long trigger = long.Parse(result.Trigger.Correlation!, System.Globalization.CultureInfo.InvariantCulture);
            int newest = swappedAt.Select((at, index) => (at, index)).Where(s => s.index > 0 && trigger > s.at).Select(s => s.index).DefaultIfEmpty(0).Max();
            Assert.True(string.CompareOrdinal(result.Model.Version, versions[newest]) >= 0,
                $"trigger {trigger} (after swap {newest}) was judged by {result.Model.Version}");
        });

        // In sequence order the model only ever moves forward: no frame goes back to a retired model.
        string[] byVersion = results.OrderBy(r => r.Sequence).Select(r => r.Model.Version).ToArray();
        Assert.Equal(byVersion.Order(StringComparer.Ordinal), byVersion);
        Assert.Equal(versions, byVersion.Distinct());
        Assert.All(retired, session => Assert.True(session.IsDisposed, $"{session.Identity.Version} was not disposed after its last frame"));
    }

    private static async Task WaitForResultsAsync(PipelineRig rig, string version)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (rig.Sink.Count(r => r.Model.Version == version) < 20)
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
