using System.Text.Json;
using EdgeModels.Cli.Commands;
using OpenCvSharp;

namespace EdgeModels.Tests.Evaluation;

/// <summary>
/// eval end to end on a labelled set whose every figure is worked out by hand below. The model (colour-segmenter)
/// calls pure red pixels linear (1), pure blue blob (2) and grey good; minimum area 3 pixels for both.
/// </summary>
public sealed class EvalCommandTests : IDisposable
{
    private const int Tile = EvaluationTestFolder.TileSize;

    private readonly EvaluationTestFolder _folder = new(minArea: 3);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task JsonReportsTheHandComputedScoresOfAKnownSet()
    {
        WriteKnownSet();

        (int exitCode, string output, string error) = await RunEvalAsync("--json");

        Assert.True(exitCode == 0, error);
        using JsonDocument json = JsonDocument.Parse(output);
        JsonElement root = json.RootElement;

        // Pixels: five 32x32 images and one 56x40 (two by two tiles).
        const long pixels = (5 * Tile * Tile) + (56 * 40);
        Assert.Equal(6, root.GetProperty("images").GetInt32());
        Assert.Equal(pixels, root.GetProperty("counts").GetProperty("pixels").GetInt64());

        // linear: true 20 (a) + 6 (b) = 26; predicted 20 (a, right) + 2 (e, on good) + 9 (f, a true blob) = 31.
        // TP 20, FP 11, FN 6.
        AssertClass(root, 1, "linear", iou: 20.0 / (20 + 11 + 6), dice: 40.0 / (40 + 11 + 6), truthPixels: 26, predictedPixels: 31);

        // blob: true 16 (a) + 9 (f) = 25; predicted 8 (a, the top half) + 9 (d, on good) = 17.
        // TP 8, FP 9, FN 8 (a's bottom half) + 9 (f, called linear) = 17.
        AssertClass(root, 2, "blob", iou: 8.0 / (8 + 9 + 17), dice: 16.0 / (16 + 9 + 17), truthPixels: 25, predictedPixels: 17);

        // good: true 7360 - 51 = 7309, of which 11 predicted as a defect (d 9, e 2): TP 7298, FN 11;
        // true defect pixels predicted good: b 6 + a's blob half 8 = 14 = FP.
        AssertClass(root, 0, "good", iou: 7298.0 / (7298 + 14 + 11), dice: 14596.0 / (14596 + 14 + 11), truthPixels: 7309, predictedPixels: 7312);

        // Any defect: TP 20 + 8 + 9 (f counts although its class is wrong) = 37, FP 2 + 9 = 11, FN 6 + 8 = 14.
        Assert.Equal(74.0 / (74 + 11 + 14), root.GetProperty("anyDefectDice").GetDouble(), 12);

        // Images with defects a, b, f: a and f FAIL, b (missed) PASSes. Defect-free c, d, e: only d FAILs;
        // e's two red pixels are below the minimum area, so nothing is reported.
        Assert.Equal(2.0 / 3, root.GetProperty("imageRecall").GetDouble(), 12);
        Assert.Equal(1.0 / 3, root.GetProperty("falseRejectRate").GetDouble(), 12);
        Assert.Equal(["b.png"], root.GetProperty("missedImages").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["d.png"], root.GetProperty("falseRejectImages").EnumerateArray().Select(e => e.GetString()));

        // True instances: a's scratch and blob, b's scratch, f's blob = 4; b's is missed, a's half-found blob and f's
        // blob (reported as linear) count. Reported defects: a 2, d 1, f 1 = 4, of which d's touches no true defect.
        Assert.Equal(3.0 / 4, root.GetProperty("instanceRecall").GetDouble(), 12);
        JsonElement counts = root.GetProperty("counts");
        Assert.Equal(4, counts.GetProperty("truthInstances").GetInt32());
        Assert.Equal(3, counts.GetProperty("recalledInstances").GetInt32());
        Assert.Equal(4, counts.GetProperty("reportedDefects").GetInt32());
        Assert.Equal(1, counts.GetProperty("falseDefects").GetInt32());
        Assert.Equal(3, counts.GetProperty("defectiveImages").GetInt32());
        Assert.Equal(3, counts.GetProperty("goodImages").GetInt32());

        JsonElement model = root.GetProperty("model");
        Assert.Equal("colour-segmenter", model.GetProperty("id").GetString());
        Assert.Equal("1.2.3", model.GetProperty("version").GetString());
        Assert.Equal("fp32", model.GetProperty("precision").GetString());
        Assert.Equal("CPU", model.GetProperty("provider").GetString());
        Assert.True(root.GetProperty("meanLatencyMs").GetDouble() > 0);
    }

    [Fact]
    public async Task PerfectPredictionsScoreOneAndAClassNeverSeenIsNull()
    {
        new LabelledSample("1.png").Truth(4, 4, 5, 3, 1).Paint(4, 4, 5, 3, LabelledSample.Red).Write(_folder);
        new LabelledSample("2.png").Write(_folder);

        (int exitCode, string output, string error) = await RunEvalAsync("--json");

        Assert.True(exitCode == 0, error);
        using JsonDocument json = JsonDocument.Parse(output);
        JsonElement root = json.RootElement;
        AssertClass(root, 1, "linear", iou: 1, dice: 1, truthPixels: 15, predictedPixels: 15);

        // No image has a blob and none is predicted: there is nothing to score, which is not a perfect score.
        JsonElement blob = root.GetProperty("perClass")[2];
        Assert.Equal(JsonValueKind.Null, blob.GetProperty("iou").ValueKind);
        Assert.Equal(JsonValueKind.Null, blob.GetProperty("dice").ValueKind);
        Assert.Equal(1.0, root.GetProperty("anyDefectDice").GetDouble());
        Assert.Equal(1.0, root.GetProperty("imageRecall").GetDouble());
        Assert.Equal(0.0, root.GetProperty("falseRejectRate").GetDouble());
        Assert.Equal(1.0, root.GetProperty("instanceRecall").GetDouble());
        Assert.Empty(root.GetProperty("missedImages").EnumerateArray());
        Assert.Empty(root.GetProperty("falseRejectImages").EnumerateArray());
    }

    [Fact]
    public async Task TextReportShowsTheTableAndProgressGoesToStandardError()
    {
        WriteKnownSet();

        (int exitCode, string output, string error) = await RunEvalAsync();

        Assert.True(exitCode == 0, error);
        Assert.Contains("linear", output, StringComparison.Ordinal);
        Assert.Contains((20.0 / 37).ToString("F4", System.Globalization.CultureInfo.InvariantCulture), output, StringComparison.Ordinal);
        Assert.Contains("66.67%", output, StringComparison.Ordinal);
        Assert.Matches(@"missed images\s+b\.png\r?\n", output);
        Assert.Matches(@"false rejects\s+d\.png\r?\n", output);
        Assert.Contains("[6/6] 100%", error, StringComparison.Ordinal);
        Assert.DoesNotContain("[6/6]", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LimitScoresOnlyTheFirstImagesInNameOrder()
    {
        WriteKnownSet();

        (int exitCode, string output, string error) = await RunEvalAsync("--json", "--limit", "2");

        Assert.True(exitCode == 0, error);
        using JsonDocument json = JsonDocument.Parse(output);

        // a and b: two images with defects, no defect-free one, so the false-reject rate is undefined.
        Assert.Equal(2, json.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("falseRejectRate").ValueKind);
        Assert.Equal(0.5, json.RootElement.GetProperty("imageRecall").GetDouble());
    }

    [Fact]
    public async Task AMaskOfAnotherSizeIsAnErrorNamingBothFiles()
    {
        new LabelledSample("1.png").Write(_folder);
        new LabelledSample("2.png").Write(_folder);
        using (Mat wide = new(32, 40, MatType.CV_8UC1, new Scalar(0)))
        {
            Assert.True(Cv2.ImWrite(Path.Combine(_folder.Masks, "2.png"), wide));
        }

        (int exitCode, string output, string error) = await RunEvalAsync("--json");

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        Assert.Contains(Path.Combine(_folder.Masks, "2.png"), error, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_folder.Images, "2.png"), error, StringComparison.Ordinal);
        Assert.Contains("40x32", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreadableImageIsAnErrorNamingIt()
    {
        new LabelledSample("1.png").Write(_folder);
        string broken = Path.Combine(_folder.Images, "1.png");
        File.WriteAllBytes(broken, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);

        (int exitCode, _, string error) = await RunEvalAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains(broken, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMaskValueThatIsNoClassIsAnErrorNamingTheMask()
    {
        new LabelledSample("1.png").Truth(3, 7, 2, 2, 7).Write(_folder);

        (int exitCode, _, string error) = await RunEvalAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains(Path.Combine(_folder.Masks, "1.png"), error, StringComparison.Ordinal);
        Assert.Contains("value 7 at pixel (3, 7)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnImageWithoutAMaskIsNamedBeforeTheModelRuns()
    {
        new LabelledSample("1.png").Write(_folder);
        File.Delete(Path.Combine(_folder.Masks, "1.png"));

        (int exitCode, _, string error) = await RunEvalAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains($"image {Path.Combine(_folder.Images, "1.png")} has no mask", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATamperedModelIsRefusedByTheRuntimesLoader()
    {
        new LabelledSample("1.png").Write(_folder);
        File.AppendAllText(Path.Combine(_folder.Package, "model.onnx"), "x");

        (int exitCode, _, string error) = await RunEvalAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains("refused", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownProviderIsACommandLineError()
    {
        new LabelledSample("1.png").Write(_folder);

        (int exitCode, _, string error) = await RunEvalAsync("--providers", "cpu,npu");

        Assert.Equal(2, exitCode);
        Assert.Contains("\"npu\"", error, StringComparison.Ordinal);
    }

    private static void AssertClass(JsonElement root, int index, string name, double iou, double dice, long truthPixels, long predictedPixels)
    {
        JsonElement score = root.GetProperty("perClass")[index];
        Assert.Equal(name, score.GetProperty("class").GetString());
        Assert.Equal(iou, score.GetProperty("iou").GetDouble(), 12);
        Assert.Equal(dice, score.GetProperty("dice").GetDouble(), 12);
        Assert.Equal(truthPixels, score.GetProperty("truthPixels").GetInt64());
        Assert.Equal(predictedPixels, score.GetProperty("predictedPixels").GetInt64());
    }

    private void WriteKnownSet()
    {
        // a: a scratch found exactly, a 4x4 blob of which only the top half is found.
        new LabelledSample("a.png")
            .Truth(5, 5, 10, 2, 1).Paint(5, 5, 10, 2, LabelledSample.Red)
            .Truth(20, 20, 4, 4, 2).Paint(20, 20, 4, 2, LabelledSample.Blue)
            .Write(_folder);

        // b: a faint 6x1 scratch the model cannot see.
        new LabelledSample("b.png").Truth(3, 28, 6, 1, 1).Write(_folder);

        // c: clean.
        new LabelledSample("c.png").Write(_folder);

        // d: clean, but a 3x3 blue spot the model takes for a blob: a false reject.
        new LabelledSample("d.png").Paint(10, 10, 3, 3, LabelledSample.Blue).Write(_folder);

        // e: clean with two red pixels: predicted linear pixels, but below the minimum area, so the part passes.
        new LabelledSample("e.png").Paint(30, 0, 1, 2, LabelledSample.Red).Write(_folder);

        // f: 56x40, two by two tiles; a 3x3 blob in the tiles' overlap, painted red so it is reported as linear.
        new LabelledSample("f.png", 56, 40).Truth(27, 5, 3, 3, 2).Paint(27, 5, 3, 3, LabelledSample.Red).Write(_folder);
    }

    private Task<(int ExitCode, string Output, string Error)> RunEvalAsync(params string[] extra) =>
        EvaluationTestFolder.RunAsync(EvalCommand.Create(), ["--model", _folder.Package, "--images", _folder.Images, "--masks", _folder.Masks, .. extra]);
}
