using System.Text.Json;
using EdgeModels.Cli.Commands;
using OpenCvSharp;

namespace EdgeModels.Tests.Evaluation;

/// <summary>
/// tune end to end on a set whose best rule is worked out by hand. The colour-segmenter's linear probability is the
/// logistic of 40 * red / 255 - 30 (make_colour_segmenter.py), so red 204 gives p = 0.88, red 185 gives p = 0.27 and
/// red 255 gives p = 1; the blob class never appears. The package's own rule is 0.5 / minimum area 1.
/// </summary>
public sealed class TuneCommandTests : IDisposable
{
    private static readonly Vec3b s_likely = new(128, 128, 204);
    private static readonly Vec3b s_faint = new(128, 128, 185);
    private static readonly Vec3b s_certain = new(128, 128, 255);

    private readonly EvaluationTestFolder _folder = new(minArea: 1);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task FindsTheOnlyRulesThatJudgeAKnownSetRightAndPrefersTheMiddleThresholdAndTheLargerArea()
    {
        WriteKnownSet();

        (int exitCode, string output, string error) = await RunTuneAsync("--json");

        Assert.True(exitCode == 0, error);
        using JsonDocument json = JsonDocument.Parse(output);
        JsonElement root = json.RootElement;
        Assert.Equal(4, root.GetProperty("images").GetInt32());
        Assert.Equal(2, root.GetProperty("defectiveImages").GetInt32());

        // The package's 0.5 / 1 fails the defect-free d.png on its one certain pixel.
        JsonElement current = root.GetProperty("current");
        AssertLimits(current, linearThreshold: 0.5, linearMinArea: 1);
        Assert.Equal(1.0, current.GetProperty("recall").GetDouble());
        Assert.Equal(0.5, current.GetProperty("falseRejectRate").GetDouble());
        Assert.Equal(["d.png"], Names(current, "falseRejectImages"));
        Assert.False(current.GetProperty("meetsTargets").GetBoolean());

        // Right on all four: threshold above c's 0.27 and at most a's 0.88 (0.5 or 0.7), minimum area above d's 1 pixel
        // and at most b's 4 (2 or 4). Ties go to the threshold nearest 0.5, then to the larger area: linear 0.5 / 4.
        // No blob anywhere: every blob rule is right, so the blob limits are 0.5 and the largest area, 8.
        JsonElement best = root.GetProperty("best");
        AssertLimits(best, linearThreshold: 0.5, linearMinArea: 4, blobThreshold: 0.5, blobMinArea: 8);
        Assert.Equal(1.0, best.GetProperty("recall").GetDouble());
        Assert.Equal(0.0, best.GetProperty("falseRejectRate").GetDouble());
        Assert.True(best.GetProperty("meetsTargets").GetBoolean());
        Assert.Empty(Names(best, "missedImages"));

        // Every rule that meets the targets ranks above every rule that does not.
        JsonElement[] candidates = [.. root.GetProperty("candidates").EnumerateArray()];
        Assert.Equal(100, candidates.Length);
        int meeting = candidates.TakeWhile(c => c.GetProperty("meetsTargets").GetBoolean()).Count();
        Assert.All(candidates.Skip(meeting), c => Assert.False(c.GetProperty("meetsTargets").GetBoolean()));

        // Linear 0.5 or 0.7, 2 or 4, times 4 x 4 blob limits, all meet the targets; nothing else does.
        Assert.Equal(2 * 2 * 4 * 4, meeting);
        Assert.All(candidates.Take(meeting), c =>
        {
            JsonElement linear = c.GetProperty("classes")[0];
            Assert.Contains(linear.GetProperty("threshold").GetDouble(), new[] { 0.5, 0.7 });
            Assert.Contains(linear.GetProperty("minArea").GetInt32(), new[] { 2, 4 });
        });
    }

    [Fact]
    public async Task WriteStoresTheBestRuleInTheManifestRemovesTheStaleSignatureAndEvalThenAgrees()
    {
        WriteKnownSet();
        string signature = Path.Combine(_folder.Package, "manifest.sig");
        await File.WriteAllTextAsync(signature, "stale");

        (int exitCode, string output, string error) = await RunTuneAsync("--write");

        Assert.True(exitCode == 0, error);
        Assert.Contains("removed   manifest.sig", output, StringComparison.Ordinal);
        Assert.False(File.Exists(signature));
        using (JsonDocument manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_folder.Package, "manifest.json"))))
        {
            JsonElement classes = manifest.RootElement.GetProperty("classes");
            Assert.Equal(0.5, classes[1].GetProperty("threshold").GetDouble());
            Assert.Equal(4, classes[1].GetProperty("minArea").GetInt32());
            Assert.Equal(8, classes[2].GetProperty("minArea").GetInt32());
            Assert.Equal(8, manifest.RootElement.GetProperty("tiling").GetProperty("overlap").GetInt32());
        }

        // The runtime's own evaluation, loading the edited package, now judges all four right.
        (int evalExit, string evalOutput, string evalError) = await EvaluationTestFolder.RunAsync(
            EvalCommand.Create(), "--model", _folder.Package, "--images", _folder.Images, "--masks", _folder.Masks, "--json");
        Assert.True(evalExit == 0, evalError);
        using JsonDocument report = JsonDocument.Parse(evalOutput);
        Assert.Equal(1.0, report.RootElement.GetProperty("imageRecall").GetDouble());
        Assert.Equal(0.0, report.RootElement.GetProperty("falseRejectRate").GetDouble());
    }

    [Fact]
    public async Task WithoutWriteTheManifestIsUntouched()
    {
        WriteKnownSet();
        string manifestPath = Path.Combine(_folder.Package, "manifest.json");
        string before = await File.ReadAllTextAsync(manifestPath);

        (int exitCode, string output, string error) = await RunTuneAsync();

        Assert.True(exitCode == 0, error);
        Assert.Contains("best rule meets the targets", output, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(manifestPath));
    }

    [Fact]
    public async Task ImpossibleTargetsAndCandidatesAreRefusedTogetherNamingEachValue()
    {
        WriteKnownSet();

        (int exitCode, _, string error) = await EvaluationTestFolder.RunAsync(
            TuneCommand.Create(),
            "--model", _folder.Package, "--images", _folder.Images, "--masks", _folder.Masks,
            "--recall", "1.5", "--false-reject", "-0.1", "--thresholds", "0.5,1,abc", "--min-areas", "2,-1", "--top", "0");

        Assert.Equal(2, exitCode);
        Assert.Contains("--recall 1.5 must be in (0, 1]", error, StringComparison.Ordinal);
        Assert.Contains("--false-reject -0.1 must be in [0, 1)", error, StringComparison.Ordinal);
        Assert.Contains("--thresholds: \"1\" is not a probability in (0, 1)", error, StringComparison.Ordinal);
        Assert.Contains("--thresholds: \"abc\" is not", error, StringComparison.Ordinal);
        Assert.Contains("--min-areas: \"-1\" is not a whole number of pixels", error, StringComparison.Ordinal);
        Assert.Contains("--top 0 must be at least 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASetWithoutDefectFreeImagesIsRefusedBecauseItCannotMeasureFalseRejects()
    {
        new LabelledSample("a.png").Truth(4, 4, 3, 3, 1).Paint(4, 4, 3, 3, s_likely).Write(_folder);

        (int exitCode, _, string error) = await RunTuneAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains("1 image(s) with a defect and 0 defect-free", error, StringComparison.Ordinal);
    }

    /// <summary>a, b have a linear defect; c, d are defect-free but show the model something.</summary>
    private void WriteKnownSet()
    {
        new LabelledSample("a.png").Truth(4, 4, 3, 3, 1).Paint(4, 4, 3, 3, s_likely).Write(_folder);     // 9 px at 0.88
        new LabelledSample("b.png").Truth(20, 20, 2, 2, 1).Paint(20, 20, 2, 2, s_certain).Write(_folder); // 4 px at 1
        new LabelledSample("c.png").Paint(10, 10, 3, 3, s_faint).Write(_folder);                           // 9 px at 0.27
        new LabelledSample("d.png").Paint(16, 8, 1, 1, s_certain).Write(_folder);                          // 1 px at 1
    }

    private static void AssertLimits(JsonElement rule, double linearThreshold, int linearMinArea, double? blobThreshold = null, int? blobMinArea = null)
    {
        JsonElement classes = rule.GetProperty("classes");
        Assert.Equal("linear", classes[0].GetProperty("class").GetString());
        Assert.Equal(linearThreshold, classes[0].GetProperty("threshold").GetDouble());
        Assert.Equal(linearMinArea, classes[0].GetProperty("minArea").GetInt32());
        if (blobThreshold is double threshold)
        {
            Assert.Equal(threshold, classes[1].GetProperty("threshold").GetDouble());
        }

        if (blobMinArea is int minArea)
        {
            Assert.Equal(minArea, classes[1].GetProperty("minArea").GetInt32());
        }
    }

    private static string[] Names(JsonElement rule, string property) =>
        [.. rule.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];

    private Task<(int ExitCode, string Output, string Error)> RunTuneAsync(params string[] extra) =>
        EvaluationTestFolder.RunAsync(
            TuneCommand.Create(),
            ["--model", _folder.Package, "--images", _folder.Images, "--masks", _folder.Masks,
             "--recall", "1", "--false-reject", "0", "--thresholds", "0.2,0.5,0.7,0.95", "--min-areas", "1,2,4,8", "--top", "100", .. extra]);
}
