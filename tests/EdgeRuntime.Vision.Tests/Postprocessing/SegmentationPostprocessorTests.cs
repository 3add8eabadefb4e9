using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Postprocessing;
using EdgeRuntime.Vision.Preprocessing;
using OpenCvSharp;

namespace EdgeRuntime.Vision.Tests.Postprocessing;

public sealed class SegmentationPostprocessorTests : IDisposable
{
    private readonly ManifestPreprocessor _layouts = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("vision-post-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void DefectAcrossTileBordersIsReportedOnceWithItsWholeBox()
    {
        // 48x48 tiles, overlap 12, on a 120x80 frame: tiles start at x 0/36/72 and y 0/32. The blob spans four tiles.
        ModelManifest manifest = TestManifests.Segmentation(width: 48, height: 48, overlap: 12);
        byte[] map = SegmentationData.Map(120, 80, (40, 25, 20, 20, 2));
        float[] logits = SegmentationData.LogitsFor(map, 120, 80);

        // Tiles disagree slightly (as a CNN does near its borders); the feathered blend must still give one region.
        InspectionResult result = Inspect(SegmentationData.Postprocessor(), manifest, logits, 120, 80, perTileOffset: (t, c) => c == 0 ? 0.25f * t : 0f);

        Defect defect = Assert.Single(result.Defects);
        Assert.Equal(2, defect.ClassIndex);
        Assert.Equal(new PixelRect(40, 25, 20, 20), defect.Bounds);
        Assert.Equal(400, defect.Area);
        Assert.Equal(49.5f, defect.CentroidX, 1e-4);
        Assert.Equal(34.5f, defect.CentroidY, 1e-4);
        Assert.Equal(Verdict.Fail, result.Verdict);
    }

    [Fact]
    public void TiledFrameReportsWhatAWholeFrameModelReports()
    {
        ModelManifest tiled = TestManifests.Segmentation(width: 48, height: 48, overlap: 12);
        byte[] map = SegmentationData.Map(120, 80, (40, 25, 20, 20, 2), (70, 60, 30, 3, 1), (5, 5, 3, 3, 1));
        for (int i = 0; i < 60; i++)
        {
            // A one-pixel diagonal scratch, connected only corner to corner, crossing tile borders.
            map[((10 + i) * 120) + 2 + i] = 1;
        }

        float[] logits = SegmentationData.LogitsFor(map, 120, 80);
        SegmentationPostprocessor post = SegmentationData.Postprocessor();

        InspectionResult fromTiles = Inspect(post, tiled, logits, 120, 80);
        InspectionResult fromWhole = Inspect(post, SegmentationData.WholeFrame(120, 80), logits, 120, 80);

        Assert.True(fromTiles.Defects.Count >= 3);
        Assert.Equal(fromWhole.Defects.Count, fromTiles.Defects.Count);
        for (int i = 0; i < fromWhole.Defects.Count; i++)
        {
            Defect expected = fromWhole.Defects[i];
            Defect actual = fromTiles.Defects[i];
            Assert.Equal((expected.ClassIndex, expected.Bounds, expected.Area), (actual.ClassIndex, actual.Bounds, actual.Area));
            Assert.Equal(expected.CentroidX, actual.CentroidX, 1e-4);
            Assert.Equal(expected.CentroidY, actual.CentroidY, 1e-4);
            Assert.Equal(expected.MaxScore, actual.MaxScore, 1e-5);
            Assert.Equal(expected.MeanScore, actual.MeanScore, 1e-5);
        }
    }

    [Fact]
    public void DiagonalPixelsAreOneDefectUnderEightConnectivity()
    {
        byte[] map = SegmentationData.Map(
            out int w,
            out int h,
            "1.....",
            ".1....",
            "..1...",
            "...1..",
            "..1...");

        InspectionResult result = InspectMap(map, w, h);

        Defect defect = Assert.Single(result.Defects);
        Assert.Equal((1, new PixelRect(0, 0, 4, 5), 5), (defect.ClassIndex, defect.Bounds, defect.Area));
    }

    [Fact]
    public void TwoSeparateBlobsAreTwoDefects()
    {
        byte[] map = SegmentationData.Map(
            out int w,
            out int h,
            "22.22",
            "22.22",
            ".....",
            "22...");

        InspectionResult result = InspectMap(map, w, h);

        Assert.Equal(3, result.Defects.Count);
        Assert.Equal([new PixelRect(0, 0, 2, 2), new PixelRect(3, 0, 2, 2), new PixelRect(0, 3, 2, 1)], result.Defects.Select(d => d.Bounds));
    }

    [Fact]
    public void ArmsThatMeetOnlyFurtherDownAreMergedIntoOneDefect()
    {
        // A raster scan meets the five arms as five regions; the union-find must join them on the rows below.
        byte[] map = SegmentationData.Map(
            out int w,
            out int h,
            "1...1...1...1.1",
            "1...1...1...1.1",
            ".1.1.1.1.1.1..1",
            "..1...1...1...1",
            "..111111111111.");

        InspectionResult result = InspectMap(map, w, h);

        Defect defect = Assert.Single(result.Defects);
        Assert.Equal(map.Count(value => value == 1), defect.Area);
        Assert.Equal(new PixelRect(0, 0, 15, 5), defect.Bounds);
    }

    [Fact]
    public void TouchingDefectsOfDifferentClassesStaySeparate()
    {
        byte[] map = SegmentationData.Map(
            out int w,
            out int h,
            "1112",
            "1122",
            "..22");

        InspectionResult result = InspectMap(map, w, h);

        Assert.Equal(2, result.Defects.Count);
        Assert.Equal((1, 5), (result.Defects[0].ClassIndex, result.Defects[0].Area));
        Assert.Equal((2, 5), (result.Defects[1].ClassIndex, result.Defects[1].Area));
    }

    [Theory]
    [InlineData(5, Verdict.Fail)]
    [InlineData(6, Verdict.Pass)]
    public void RegionsBelowTheClassMinimumAreaAreNotDefects(int minArea, Verdict verdict)
    {
        byte[] map = SegmentationData.Map(out int w, out int h, ".....", ".111.", "..11.", ".....");
        ModelManifest manifest = SegmentationData.WholeFrame(w, h, minArea: minArea);

        InspectionResult result = Inspect(SegmentationData.Postprocessor(), manifest, SegmentationData.LogitsFor(map, w, h), w, h);

        Assert.Equal(verdict == Verdict.Fail ? 1 : 0, result.Defects.Count);
        Assert.Equal(verdict, result.Verdict);
    }

    [Fact]
    public void CleanFramePasses()
    {
        InspectionResult result = InspectMap(new byte[30 * 20], 30, 20);

        Assert.Empty(result.Defects);
        Assert.Equal(Verdict.Pass, result.Verdict);
    }

    [Fact]
    public void RegionOfInterestExcludesOutsideDefectsAndClipsStraddlingOnes()
    {
        byte[] map = SegmentationData.Map(60, 40, (2, 2, 5, 5, 1), (25, 10, 10, 10, 2));
        var options = new InspectionOptions { RegionOfInterest = new RegionOfInterestOptions { X = 20, Y = 15, Width = 100, Height = 100 } };
        byte[] classMap = new byte[60 * 40];

        InspectionResult result = Inspect(SegmentationData.Postprocessor(options), SegmentationData.WholeFrame(60, 40), SegmentationData.LogitsFor(map, 60, 40), 60, 40, classMap: classMap);

        Defect defect = Assert.Single(result.Defects);
        Assert.Equal((2, new PixelRect(25, 15, 10, 5), 50), (defect.ClassIndex, defect.Bounds, defect.Area));
        Assert.Equal(0, classMap[(3 * 60) + 3]);
        Assert.Equal(0, classMap[(12 * 60) + 30]);
        Assert.Equal(2, classMap[(17 * 60) + 30]);
    }

    [Fact]
    public void RegionOfInterestOutsideTheFrameIsAnError()
    {
        var options = new InspectionOptions { RegionOfInterest = new RegionOfInterestOptions { X = 200, Y = 0, Width = 10, Height = 10 } };

        var error = Assert.Throws<InvalidOperationException>(() => InspectMap(new byte[60 * 40], 60, 40, SegmentationData.Postprocessor(options)));

        Assert.Contains("Inspection:RegionOfInterest", error.Message, StringComparison.Ordinal);
        Assert.Contains("60x40", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IgnoreMaskHidesDefectsUnderIt()
    {
        byte[] map = SegmentationData.Map(60, 40, (2, 2, 5, 5, 1), (25, 10, 10, 10, 2), (45, 30, 4, 4, 1));
        string maskPath = Path.Combine(_directory, "ignore.png");
        using (var mask = new Mat(40, 60, MatType.CV_8UC3, Scalar.All(0)))
        {
            Cv2.Rectangle(mask, new Rect(0, 0, 10, 10), Scalar.All(255), -1);

            // Non-zero in one colour channel only still means "ignore".
            Cv2.Rectangle(mask, new Rect(44, 29, 6, 6), new Scalar(0, 0, 1), -1);
            Assert.True(Cv2.ImWrite(maskPath, mask));
        }

        var logger = new ListLogger<SegmentationPostprocessor>();
        SegmentationPostprocessor post = SegmentationData.Postprocessor(new InspectionOptions { IgnoreMaskPath = maskPath }, logger);

        InspectionResult result = InspectMap(map, 60, 40, post);

        Defect defect = Assert.Single(result.Defects);
        Assert.Equal(new PixelRect(25, 10, 10, 10), defect.Bounds);
        Assert.Contains(logger.Entries, e => e.Id.Id == 3002 && e.Message.Contains("136 pixels", StringComparison.Ordinal));
    }

    [Fact]
    public void IgnoreMaskOfAnotherSizeThanTheFrameIsAnErrorNamingIt()
    {
        string maskPath = Path.Combine(_directory, "small.png");
        using (var mask = new Mat(10, 10, MatType.CV_8UC1, Scalar.All(0)))
        {
            Assert.True(Cv2.ImWrite(maskPath, mask));
        }

        SegmentationPostprocessor post = SegmentationData.Postprocessor(new InspectionOptions { IgnoreMaskPath = maskPath });

        var error = Assert.Throws<InvalidOperationException>(() => InspectMap(new byte[60 * 40], 60, 40, post));

        Assert.Contains(maskPath, error.Message, StringComparison.Ordinal);
        Assert.Contains("10x10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClassOverridesReplaceTheManifestThresholdAndMinimumArea()
    {
        // Probabilities straight from the "model": class 1 at 0.4 (below the manifest's 0.5), class 2 at 0.9 over 4 pixels.
        const int W = 20;
        const int H = 10;
        float[] planes = new float[3 * W * H];
        Paint(planes, W, H, 1, new PixelRect(2, 2, 6, 3), 0.4f);
        Paint(planes, W, H, 2, new PixelRect(12, 4, 2, 2), 0.9f);
        ModelManifest manifest = SegmentationData.WholeFrame(W, H, OutputKind.Probabilities);

        InspectionResult plain = Inspect(SegmentationData.Postprocessor(), manifest, planes, W, H);
        var options = new InspectionOptions();
        options.ClassOverrides["LINEAR"] = new ClassOverrideOptions { Threshold = 0.3 };
        options.ClassOverrides["blob"] = new ClassOverrideOptions { MinArea = 5 };
        InspectionResult overridden = Inspect(SegmentationData.Postprocessor(options), manifest, planes, W, H);

        Assert.Equal(2, Assert.Single(plain.Defects).ClassIndex);
        Defect defect = Assert.Single(overridden.Defects);
        Assert.Equal((1, new PixelRect(2, 2, 6, 3)), (defect.ClassIndex, defect.Bounds));
    }

    [Fact]
    public void OverrideNamingAClassTheModelLacksIsReportedOnceWhenTheModelLoads()
    {
        var options = new InspectionOptions();
        options.ClassOverrides["crack"] = new ClassOverrideOptions { Threshold = 0.7 };
        options.ClassOverrides["blob"] = new ClassOverrideOptions { Threshold = 0.7 };
        var logger = new ListLogger<SegmentationPostprocessor>();
        SegmentationPostprocessor post = SegmentationData.Postprocessor(options, logger);
        ModelManifest manifest = SegmentationData.WholeFrame(8, 8);

        post.Prepare(manifest);
        InspectMap(new byte[64], 8, 8, post, manifest);

        var warning = Assert.Single(logger.Entries);
        Assert.Equal((Microsoft.Extensions.Logging.LogLevel.Warning, 3001), (warning.Level, warning.Id.Id));
        Assert.Contains("crack", warning.Message, StringComparison.Ordinal);
        Assert.Contains("test-unet", warning.Message, StringComparison.Ordinal);
        Assert.Contains("linear, blob", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OutputActivation.Softmax, 0)]
    [InlineData(OutputActivation.Sigmoid, 1)]
    public void ActivationFollowsTheManifest(OutputActivation activation, int expectedDefects)
    {
        // Logits (2, 1.5, -5): softmax gives class 1 0.377 (below 0.5), sigmoid gives it 0.818 (above).
        const int W = 12;
        const int H = 8;
        float[] logits = new float[3 * W * H];
        logits.AsSpan(0, W * H).Fill(2f);
        logits.AsSpan(W * H, W * H).Fill(-4f);
        logits.AsSpan(2 * W * H).Fill(-5f);
        Paint(logits, W, H, 1, new PixelRect(3, 2, 4, 3), 1.5f);

        InspectionResult result = Inspect(SegmentationData.Postprocessor(), SegmentationData.WholeFrame(W, H, activation: activation), logits, W, H);

        Assert.Equal(expectedDefects, result.Defects.Count);
        if (expectedDefects == 1)
        {
            Assert.Equal(1 / (1 + Math.Exp(-1.5)), result.Defects[0].MaxScore, 1e-5);
            Assert.Equal(1 / (1 + Math.Exp(-1.5)), result.Defects[0].MeanScore, 1e-5);
        }
    }

    [Fact]
    public void PixelGoesToTheMostProbableClassThatReachesItsThreshold()
    {
        const int W = 10;
        const int H = 4;
        float[] planes = new float[3 * W * H];

        // Left: class 1 0.45 misses its 0.5, class 2 0.40 reaches its overridden 0.3 -> class 2.
        Paint(planes, W, H, 1, new PixelRect(0, 0, 4, 4), 0.45f);
        Paint(planes, W, H, 2, new PixelRect(0, 0, 4, 4), 0.40f);

        // Right: both reach their thresholds (sigmoid-style, not summing to 1) -> the more probable class 1.
        Paint(planes, W, H, 1, new PixelRect(6, 0, 4, 4), 0.9f);
        Paint(planes, W, H, 2, new PixelRect(6, 0, 4, 4), 0.7f);
        var options = new InspectionOptions();
        options.ClassOverrides["blob"] = new ClassOverrideOptions { Threshold = 0.3 };
        byte[] classMap = new byte[W * H];

        InspectionResult result = Inspect(
            SegmentationData.Postprocessor(options), SegmentationData.WholeFrame(W, H, OutputKind.Probabilities, OutputActivation.Sigmoid), planes, W, H, classMap: classMap);

        Assert.Equal(2, result.Defects.Count);
        Assert.Contains(result.Defects, d => d.ClassIndex == 2 && d.Bounds == new PixelRect(0, 0, 4, 4) && Math.Abs(d.MaxScore - 0.40f) < 1e-6);
        Assert.Contains(result.Defects, d => d.ClassIndex == 1 && d.Bounds == new PixelRect(6, 0, 4, 4) && Math.Abs(d.MaxScore - 0.9f) < 1e-6);
        Assert.Equal(SegmentationData.Map(W, H, (0, 0, 4, 4, 2), (6, 0, 4, 4, 1)), classMap);
    }

    [Fact]
    public void DefectMeasurementsDescribeTheRegion()
    {
        // An L of 5 pixels with scores 0.6..1.0.
        const int W = 8;
        const int H = 6;
        float[] planes = new float[3 * W * H];
        (int X, int Y, float P)[] pixels = [(2, 1, 0.6f), (2, 2, 0.7f), (2, 3, 0.8f), (3, 3, 0.9f), (4, 3, 1.0f)];
        foreach (var (x, y, p) in pixels)
        {
            planes[(W * H) + (y * W) + x] = p;
        }

        InspectionResult result = Inspect(SegmentationData.Postprocessor(), SegmentationData.WholeFrame(W, H, OutputKind.Probabilities), planes, W, H);

        Defect defect = Assert.Single(result.Defects);
        Assert.Equal(new PixelRect(2, 1, 3, 3), defect.Bounds);
        Assert.Equal(5, defect.Area);
        Assert.Equal(13f / 5, defect.CentroidX, 1e-5);
        Assert.Equal(12f / 5, defect.CentroidY, 1e-5);
        Assert.Equal(1.0f, defect.MaxScore, 1e-6);
        Assert.Equal(0.8f, defect.MeanScore, 1e-5);
    }

    [Fact]
    public void DefectsAreListedLargestFirst()
    {
        byte[] map = SegmentationData.Map(40, 20, (1, 1, 2, 2, 1), (10, 1, 5, 5, 2), (20, 10, 3, 3, 1));

        InspectionResult result = InspectMap(map, 40, 20);

        Assert.Equal([25, 9, 4], result.Defects.Select(d => d.Area));
    }

    [Fact]
    public void StretchedModelOutputIsMappedBackToFramePixels()
    {
        // Input 32x24, frame 64x48: the model's 8x6 block at (8, 6) is the frame's 16x12 block at (16, 12).
        ModelManifest manifest = TestManifests.Segmentation(width: 32, height: 24, resize: ResizeMode.Stretch, linearMinArea: 48);
        byte[] inputMap = SegmentationData.Map(32, 24, (8, 6, 8, 6, 1));
        float[] logits = SegmentationData.LogitsFor(inputMap, 32, 24, high: 12f, low: -12f);
        byte[] classMap = new byte[64 * 48];

        InspectionResult result = Inspect(SegmentationData.Postprocessor(), manifest, logits, 64, 48, classMap: classMap);

        Defect defect = Assert.Single(result.Defects);
        Assert.Equal((1, new PixelRect(16, 12, 16, 12), 192), (defect.ClassIndex, defect.Bounds, defect.Area));

        // minArea is in model-input pixels: 49 of them are 196 frame pixels, more than the block has.
        ModelManifest stricter = TestManifests.Segmentation(width: 32, height: 24, resize: ResizeMode.Stretch, linearMinArea: 49);
        Assert.Empty(Inspect(SegmentationData.Postprocessor(), stricter, logits, 64, 48).Defects);
    }

    [Fact]
    public void ClassMapReceivesTheDecisionPerPixel()
    {
        byte[] map = SegmentationData.Map(30, 20, (3, 4, 5, 2, 1), (10, 10, 7, 7, 2));
        byte[] classMap = new byte[30 * 20];
        classMap.AsSpan().Fill(99);

        InspectMap(map, 30, 20, classMap: classMap);

        Assert.Equal(map, classMap);
    }

    [Fact]
    public void ClassMapShorterThanTheFrameIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => InspectMap(new byte[30 * 20], 30, 20, classMap: new byte[100]));

        Assert.Contains("30x20", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OutputOfTheWrongSizeIsRefused()
    {
        ModelManifest manifest = SegmentationData.WholeFrame(16, 16);
        TileLayout layout = _layouts.GetLayout(16, 16, manifest);

        var error = Assert.Throws<ArgumentException>(() =>
            SegmentationData.Postprocessor().Postprocess(new float[2 * 16 * 16], layout, manifest, new InspectionResult()));

        Assert.Contains("1 items of 3x16x16 make 768", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SteadyStatePostprocessingAllocatesNothing()
    {
        ModelManifest manifest = TestManifests.Segmentation(width: 48, height: 48, overlap: 12);
        byte[] map = SegmentationData.Map(120, 80, (40, 25, 20, 20, 2), (3, 3, 4, 4, 1));
        TileLayout layout = _layouts.GetLayout(120, 80, manifest);
        float[] output = SegmentationData.Cut(SegmentationData.LogitsFor(map, 120, 80), 3, layout);
        SegmentationPostprocessor post = SegmentationData.Postprocessor();
        var result = new InspectionResult();
        byte[] classMap = new byte[120 * 80];
        post.Postprocess(output, layout, manifest, result, classMap);
        post.Postprocess(output, layout, manifest, result);

        // Three windows of five calls each: an allocation per call shows in every window, while a one-off event of
        // the runtime on this thread (a method re-jitted at a higher tier, a pool trimmed after another test's
        // garbage collection) shows in one at most; such an event failed this test once in a full parallel run.
        long[] windows = new long[3];
        for (int window = 0; window < windows.Length; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++)
            {
                result.Reset();
                post.Postprocess(output, layout, manifest, result, classMap);
                result.Reset();
                post.Postprocess(output, layout, manifest, result);
            }
            windows[window] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.True(windows.Min() == 0, $"bytes allocated per window of five calls: {string.Join(", ", windows)}");
        Assert.Equal(2, result.Defects.Count);
    }

    private InspectionResult InspectMap(byte[] map, int width, int height, SegmentationPostprocessor? post = null, ModelManifest? manifest = null, byte[]? classMap = null) =>
        Inspect(post ?? SegmentationData.Postprocessor(), manifest ?? SegmentationData.WholeFrame(width, height), SegmentationData.LogitsFor(map, width, height), width, height, classMap: classMap);

    private InspectionResult Inspect(
        SegmentationPostprocessor post,
        ModelManifest manifest,
        float[] planes,
        int frameWidth,
        int frameHeight,
        Func<int, int, float>? perTileOffset = null,
        byte[]? classMap = null)
    {
        TileLayout layout = _layouts.GetLayout(frameWidth, frameHeight, manifest);
        float[] output = manifest.Input.Resize == ResizeMode.Stretch ? planes : SegmentationData.Cut(planes, manifest.ClassCount, layout, perTileOffset);
        var result = new InspectionResult();
        post.Postprocess(output, layout, manifest, result, classMap);
        return result;
    }

    private static void Paint(float[] planes, int width, int height, int plane, PixelRect rect, float value)
    {
        for (int y = rect.Y; y < rect.Y + rect.Height; y++)
        {
            planes.AsSpan((plane * width * height) + (y * width) + rect.X, rect.Width).Fill(value);
        }
    }
}
