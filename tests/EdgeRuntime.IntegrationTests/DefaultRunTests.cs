using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Host.Composition;
using EdgeRuntime.Host.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EdgeRuntime.IntegrationTests;

/// <summary>The service end to end, in process: bundled sample model, replayed samples, every sink.</summary>
public sealed class DefaultRunTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("edge-e2e-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private Dictionary<string, string?> Overrides(string samples) => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Model:Package"] = RepositoryPaths.SampleModel,
        ["Source:Kind"] = "Replay",
        ["Source:Replay:Directory"] = samples,
        ["Source:Replay:Loop"] = "false",
        ["Trigger:Kind"] = "FreeRun",
        ["Pipeline:StateDirectory"] = _state,
        ["Pipeline:DeadlineMs"] = "120000",
        ["Reject:DelayMs"] = "120000",
        ["Archive:Directory"] = Path.Combine(_state, "archive"),
        ["Archive:PassSampleRate"] = "0",
        ["Console:PrintResults"] = "false",
        ["Console:SummaryIntervalSeconds"] = "0",
    };

    private async Task<(IReadOnlyList<InspectionResult> Results, LedgerSnapshot Books)> RunToEndAsync(Dictionary<string, string?> overrides)
    {
        var sink = new CollectingSink();
        // An empty file rather than none, so a config under /etc on the test machine cannot leak in.
        string empty = Path.Combine(_state, "empty.json");
        await File.WriteAllTextAsync(empty, "{}");
        EdgeConfiguration configuration = EdgeConfiguration.Build(empty, overrides);
        using IHost host = EdgeHost.Build(configuration, TextWriter.Null, out OptionsRegistry registry, services => services.AddSingleton<IResultSink>(sink));
        Assert.Empty(registry.Check(host.Services, configuration.Root));
        PipelineLedger ledger = host.Services.GetRequiredService<PipelineLedger>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await host.RunAsync(timeout.Token);
        Assert.False(timeout.IsCancellationRequested, "the replay did not end by itself");
        return (sink.Results, ledger.Snapshot());
    }

    [Fact]
    public async Task SampleImagesGetTheirTrueVerdictsWithDefectBoxesOverlappingTheTruth()
    {
        IReadOnlyList<SampleTruth> truths = SampleTruth.Load(RepositoryPaths.Samples);
        (IReadOnlyList<InspectionResult> results, LedgerSnapshot books) = await RunToEndAsync(Overrides(RepositoryPaths.Samples));

        List<InspectionResult> inspected = results.Where(r => r.Status == ResultStatus.Inspected).ToList();
        Assert.Equal(truths.Count, inspected.Count);
        int correct = 0;
        foreach (SampleTruth truth in truths)
        {
            InspectionResult result = Assert.Single(inspected, r => r.FrameId == truth.File);
            Assert.Equal(EmbeddedDefaults.SampleModelFolder, "defect-unet-pruned-" + result.Model.Precision);
            Assert.Equal("CPU", result.Model.ExecutionProvider, ignoreCase: true);
            Assert.Equal(result.Defects.Count > 0, result.Verdict == Verdict.Fail);
            bool defective = truth.Verdict == "FAIL";
            if (defective && result.Verdict == Verdict.Fail)
            {
                // A FAIL on a defective part must point at the defect, not at something else on the part.
                Assert.True(result.Defects.Any(d => truth.Defects.Any(t => t.Overlaps(d.Bounds))),
                    $"{truth.File}: no reported defect overlaps a true defect");
            }

            correct += defective == (result.Verdict == Verdict.Fail) ? 1 : 0;
        }

        // The replay samples are held out (seed 7001, never trained or tuned on); the default model judges every one
        // of them right. Its measured accuracy on the larger held-out set is in models/README.md.
        Assert.True(correct == truths.Count, $"only {correct} of {truths.Count} sample verdicts are right");

        // The books balance: every trigger became a result or a counted drop (the replay's end is one).
        Assert.Equal(0, books.InFlight);
        Assert.Equal(truths.Count, books.Inspected);
        Assert.Equal(books.Triggers, books.Inspected + books.Dropped + books.DeadlineMissed);
        Assert.Equal(books.Dropped, books.DropsFor(DropReason.SourceEnded));
        Assert.Equal(results.Select(r => r.Sequence).Order(), results.Select(r => r.Sequence).Distinct().Order());
    }

    [Fact]
    public async Task FailFramesAreArchivedWithTheirSidecar()
    {
        IReadOnlyList<SampleTruth> truths = SampleTruth.Load(RepositoryPaths.Samples);
        (IReadOnlyList<InspectionResult> results, _) = await RunToEndAsync(Overrides(RepositoryPaths.Samples));

        int fails = results.Count(r => r.Status == ResultStatus.Inspected && r.Verdict == Verdict.Fail);
        string archive = Path.Combine(_state, "archive");
        string[] images = Directory.GetFiles(archive, "*.png", SearchOption.AllDirectories);
        string[] sidecars = Directory.GetFiles(archive, "*.json", SearchOption.AllDirectories);
        Assert.Equal(fails, images.Length);
        Assert.Equal(fails, sidecars.Length);
        Assert.Equal(truths.Count(t => t.Verdict == "FAIL"), fails);
    }

    [Fact]
    public async Task SequenceNumbersContinueAcrossRestarts()
    {
        (IReadOnlyList<InspectionResult> first, _) = await RunToEndAsync(Overrides(RepositoryPaths.Samples));
        (IReadOnlyList<InspectionResult> second, _) = await RunToEndAsync(Overrides(RepositoryPaths.Samples));
        Assert.True(second.Min(r => r.Sequence) > first.Max(r => r.Sequence));
    }
}
