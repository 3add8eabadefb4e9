using EdgeRuntime.Vision.Synthetic;
using OpenCvSharp;

namespace EdgeRuntime.Vision.Tests.Synthetic;

public sealed class DefectSceneGeneratorTests
{
    private static DefectSceneOptions Options(long seed = 1) => new() { Width = 128, Height = 128, Seed = seed };

    [Fact]
    public void SameSeedAndIndexRenderIdenticalPixelsAndInstances()
    {
        using DefectSceneGenerator first = new(Options());
        using DefectSceneGenerator second = new(Options());
        using Mat imageA = new();
        using Mat maskA = new();
        using Mat imageB = new();
        using Mat maskB = new();
        List<DefectInstance> defectsA = [];
        List<DefectInstance> defectsB = [];
        for (int index = 0; index < 12; index++)
        {
            // Render another scene in between so leftover state in the generator would show up.
            second.Render(index + 100, imageB, maskB);
            first.Render(index, imageA, maskA, defectsA);
            second.Render(index, imageB, maskB, defectsB);

            Assert.True(imageA.AsSpan<byte>().SequenceEqual(imageB.AsSpan<byte>()), $"image {index} differs");
            Assert.True(maskA.AsSpan<byte>().SequenceEqual(maskB.AsSpan<byte>()), $"mask {index} differs");
            Assert.Equal(defectsA, defectsB);
        }
    }

    [Fact]
    public void DifferentSeedsRenderDifferentScenes()
    {
        using DefectSceneGenerator one = new(Options(1));
        using DefectSceneGenerator two = new(Options(2));
        using Mat imageA = new();
        using Mat maskA = new();
        using Mat imageB = new();
        using Mat maskB = new();
        for (int index = 0; index < 5; index++)
        {
            one.Render(index, imageA, maskA);
            two.Render(index, imageB, maskB);
            Assert.False(imageA.AsSpan<byte>().SequenceEqual(imageB.AsSpan<byte>()), $"scene {index} is the same for seeds 1 and 2");
        }
    }

    [Fact]
    public void BetweenThirtyAndFiftyPercentOfScenesAreDefectFree()
    {
        using DefectSceneGenerator generator = new(Options(7));
        using Mat image = new();
        using Mat mask = new();
        int good = 0;
        const int scenes = 200;
        for (int index = 0; index < scenes; index++)
        {
            good += generator.Render(index, image, mask).DefectCount == 0 ? 1 : 0;
        }

        Assert.InRange(good, scenes * 30 / 100, scenes * 50 / 100);
    }

    [Fact]
    public void MaskHoldsOnlyClassIndicesAndIsNonEmptyExactlyWhenDefectsWerePainted()
    {
        using DefectSceneGenerator generator = new(Options(3));
        using Mat image = new();
        using Mat mask = new();
        List<DefectInstance> defects = [];
        Span<int> histogram = stackalloc int[256];
        for (int index = 0; index < 60; index++)
        {
            SceneSummary scene = generator.Render(index, image, mask, defects);
            histogram.Clear();
            foreach (byte value in mask.AsSpan<byte>())
            {
                histogram[value]++;
            }

            Assert.Equal(mask.Total(), histogram[0] + histogram[1] + histogram[2]);
            Assert.Equal(scene.DefectCount, defects.Count);
            Assert.Equal(defects.Count > 0, histogram[1] + histogram[2] > 0);
            foreach (DefectInstance defect in defects)
            {
                Assert.True(histogram[defect.ClassIndex] > 0 || defects.Count > 1, $"scene {index}: no pixel of class {defect.ClassIndex}");
            }
        }
    }

    [Fact]
    public void InstanceBoundsLieInsideTheImageAndCoverLabelledPixels()
    {
        DefectSceneOptions options = Options(5);
        using DefectSceneGenerator generator = new(options);
        using Mat image = new();
        using Mat mask = new();
        List<DefectInstance> defects = [];
        Rect frame = new(0, 0, options.Width, options.Height);
        int seen = 0;
        for (int index = 0; index < 60; index++)
        {
            generator.Render(index, image, mask, defects);
            foreach (DefectInstance defect in defects)
            {
                seen++;
                Assert.True(defect.Bounds.Width > 0 && defect.Bounds.Height > 0, $"scene {index}: empty bounds");
                Assert.Equal(defect.Bounds, defect.Bounds & frame);
                Assert.Equal(defect.Kind.ClassIndex(), defect.ClassIndex);
            }

            if (defects.Count == 1)
            {
                // With one defect, its box must be exactly the box of the labelled pixels.
                using Mat labelled = new();
                Cv2.FindNonZero(mask, labelled);
                Assert.Equal(Cv2.BoundingRect(labelled), defects[0].Bounds);
            }
        }

        Assert.True(seen > 20, $"only {seen} defects in 60 scenes");
    }

    [Fact]
    public void MaskMarksExactlyThePixelsTheDefectsChanged()
    {
        // Same seed, but one generator never paints defects: outside the mask both images must be identical,
        // inside it the defect must have changed the pixels visibly.
        DefectSceneOptions withDefects = Options(11);
        DefectSceneOptions clean = Options(11);
        withDefects.DefectFreeProbability = 0.0;
        clean.DefectFreeProbability = 1.0;
        using DefectSceneGenerator defective = new(withDefects);
        using DefectSceneGenerator good = new(clean);
        using Mat image = new();
        using Mat mask = new();
        using Mat cleanImage = new();
        using Mat cleanMask = new();
        for (int index = 0; index < 20; index++)
        {
            defective.Render(index, image, mask);
            good.Render(index, cleanImage, cleanMask);
            Assert.Equal(0, Cv2.CountNonZero(cleanMask));
            ReadOnlySpan<byte> a = image.AsSpan<byte>();
            ReadOnlySpan<byte> b = cleanImage.AsSpan<byte>();
            ReadOnlySpan<byte> m = mask.AsSpan<byte>();
            double labelledChange = 0;
            int labelled = 0;
            for (int p = 0; p < m.Length; p++)
            {
                int change = Math.Abs(a[3 * p] - b[3 * p]) + Math.Abs(a[(3 * p) + 1] - b[(3 * p) + 1]) + Math.Abs(a[(3 * p) + 2] - b[(3 * p) + 2]);
                if (m[p] == 0)
                {
                    Assert.True(change == 0, $"scene {index}: unlabelled pixel {p} changed by {change}");
                }
                else
                {
                    labelled++;
                    labelledChange += change;
                }
            }

            Assert.True(labelled > 0, $"scene {index} has no labelled pixel");
            Assert.True(labelledChange / labelled / 3 > 12, $"scene {index}: mean change of labelled pixels is only {labelledChange / labelled / 3:F1} grey levels");
        }
    }

    [Fact]
    public void CallerBuffersAreReusedWhenTheyAlreadyHaveTheSceneSize()
    {
        using DefectSceneGenerator generator = new(Options());
        using Mat image = new(128, 128, MatType.CV_8UC3);
        using Mat mask = new(128, 128, MatType.CV_8UC1);
        IntPtr imageData = image.Data;
        IntPtr maskData = mask.Data;
        generator.Render(0, image, mask);
        generator.Render(1, image, mask);
        Assert.Equal(imageData, image.Data);
        Assert.Equal(maskData, mask.Data);
    }

    [Theory]
    [InlineData(nameof(DefectSceneOptions.Width), 8)]
    [InlineData(nameof(DefectSceneOptions.DefectFreeProbability), 1.5)]
    [InlineData(nameof(DefectSceneOptions.MaxDefectsPerScene), 0)]
    public void InvalidOptionIsRefusedNamingTheKey(string key, double value)
    {
        DefectSceneOptions options = Options();
        typeof(DefectSceneOptions).GetProperty(key)!.SetValue(options, Convert.ChangeType(value, typeof(DefectSceneOptions).GetProperty(key)!.PropertyType, System.Globalization.CultureInfo.InvariantCulture));
        ArgumentException error = Assert.Throws<ArgumentException>(() => new DefectSceneGenerator(options));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }
}
