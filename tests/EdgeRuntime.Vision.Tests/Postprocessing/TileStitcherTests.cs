using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Postprocessing;

namespace EdgeRuntime.Vision.Tests.Postprocessing;

public sealed class TileStitcherTests
{
    [Theory]
    [InlineData(100, 70, 32, 8)]
    [InlineData(97, 33, 32, 8)]
    [InlineData(256, 256, 64, 16)]
    [InlineData(64, 64, 64, 16)]
    [InlineData(20, 10, 32, 8)]
    [InlineData(90, 40, 32, 0)]
    public void ProbabilityMapCutIntoOverlappingTilesIsStitchedBackUnchanged(int frameWidth, int frameHeight, int tile, int overlap)
    {
        const int Classes = 3;
        TileLayout layout = TileLayout.Create(frameWidth, frameHeight, tile, tile, overlap);
        float[] original = SmoothProbabilities(frameWidth, frameHeight, Classes);
        float[] output = SegmentationData.Cut(original, Classes, layout);

        float[] stitched = Stitch(output, layout, Classes, OutputKind.Probabilities, OutputActivation.Softmax);

        int pixels = frameWidth * frameHeight;
        for (int c = 1; c < Classes; c++)
        {
            for (int i = 0; i < pixels; i++)
            {
                float expected = original[(c * pixels) + i];
                float actual = stitched[((c - 1) * pixels) + i];
                Assert.True(MathF.Abs(expected - actual) <= 1e-5f, $"class {c} pixel ({i % frameWidth}, {i / frameWidth}): {expected} vs {actual}");
            }
        }
    }

    [Fact]
    public void DisagreeingTilesBlendWithoutASeam()
    {
        // Each tile reports a different constant; across an overlap the stitched value must move monotonically from
        // one tile's value to the next with steps no larger than the feather allows, never jump at a tile edge.
        const int Classes = 2;
        TileLayout layout = TileLayout.Create(72, 32, 32, 32, 8);
        Assert.Equal(3, layout.Count);
        float[] frame = new float[Classes * 72 * 32];
        float[] output = SegmentationData.Cut(frame, Classes, layout, (t, c) => c == 1 ? 0.2f + (0.3f * t) : 0f);

        float[] stitched = Stitch(output, layout, Classes, OutputKind.Probabilities, OutputActivation.Softmax);

        float previous = stitched[0];
        Assert.Equal(0.2f, previous, 1e-5);
        for (int x = 1; x < 72; x++)
        {
            float value = stitched[(16 * 72) + x];
            Assert.InRange(value - previous, 0f, (0.3f / 9f) + 1e-5f);
            previous = value;
        }

        Assert.Equal(0.8f, previous, 1e-5);
    }

    [Fact]
    public void SoftmaxIsTakenOverAllClassesBeforeStitching()
    {
        const int Classes = 3;
        TileLayout layout = TileLayout.Create(40, 20, 16, 16, 4);
        var logits = new float[Classes * 40 * 20];
        var random = new Random(11);
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = (float)((random.NextDouble() * 20) - 10);
        }

        float[] stitched = Stitch(SegmentationData.Cut(logits, Classes, layout), layout, Classes, OutputKind.Logits, OutputActivation.Softmax);

        const int Pixels = 800;
        for (int i = 0; i < Pixels; i++)
        {
            double e0 = Math.Exp(logits[i]);
            double e1 = Math.Exp(logits[Pixels + i]);
            double e2 = Math.Exp(logits[(2 * Pixels) + i]);
            Assert.InRange(stitched[i] - (e1 / (e0 + e1 + e2)), -1e-6, 1e-6);
            Assert.InRange(stitched[Pixels + i] - (e2 / (e0 + e1 + e2)), -1e-6, 1e-6);
        }
    }

    [Fact]
    public void SigmoidScoresEachClassOnItsOwn()
    {
        const int Classes = 3;
        TileLayout layout = TileLayout.Create(40, 20, 16, 16, 4);
        var logits = new float[Classes * 40 * 20];
        var random = new Random(12);
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = (float)((random.NextDouble() * 20) - 10);
        }

        float[] stitched = Stitch(SegmentationData.Cut(logits, Classes, layout), layout, Classes, OutputKind.Logits, OutputActivation.Sigmoid);

        const int Pixels = 800;
        for (int i = 0; i < 2 * Pixels; i++)
        {
            Assert.InRange(stitched[i] - (1 / (1 + Math.Exp(-logits[Pixels + i]))), -1e-6, 1e-6);
        }
    }

    private static float[] Stitch(float[] output, TileLayout layout, int classes, OutputKind kind, OutputActivation activation)
    {
        int pixels = layout.FrameWidth * layout.FrameHeight;
        float[] planes = new float[(classes - 1) * pixels];
        planes.AsSpan().Fill(float.NaN);
        float[] weights = new float[pixels];
        float[] scratch = new float[TileStitcher.ScratchLength(layout, classes)];
        TileStitcher.Stitch(output, layout, classes, kind, activation, planes, weights, scratch);
        return planes;
    }

    /// <summary>A smooth, non-trivial per-class map whose classes sum to 1 per pixel.</summary>
    private static float[] SmoothProbabilities(int width, int height, int classes)
    {
        int pixels = width * height;
        var planes = new float[classes * pixels];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double a = 0.5 + (0.4 * Math.Sin(x * 0.21) * Math.Cos(y * 0.13));
                double b = 0.5 * (1 - a) * (1 + Math.Sin((x + y) * 0.05));
                int i = (y * width) + x;
                planes[i] = (float)(1 - a - b);
                planes[pixels + i] = (float)a;
                planes[(2 * pixels) + i] = (float)b;
            }
        }

        return planes;
    }

    [Fact]
    public void EveryFramePixelIsCoveredByTheLayout()
    {
        // The stitcher divides by the summed weights; a pixel outside every tile would be a division by zero.
        TileLayout layout = TileLayout.Create(1000, 700, 256, 256, 32);
        var covered = new bool[1000 * 700];
        foreach (PixelRect tile in layout.Tiles)
        {
            for (int y = tile.Y; y < tile.Y + tile.Height; y++)
            {
                covered.AsSpan((y * 1000) + tile.X, tile.Width).Fill(true);
            }
        }

        Assert.DoesNotContain(false, covered);
    }
}
