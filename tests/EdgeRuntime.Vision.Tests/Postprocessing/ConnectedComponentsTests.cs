using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Vision.Postprocessing;

namespace EdgeRuntime.Vision.Tests.Postprocessing;

public sealed class ConnectedComponentsTests
{
    [Theory]
    [InlineData(1, 0.15)]
    [InlineData(2, 0.45)]
    [InlineData(3, 0.7)]
    public void LabellingMatchesAFloodFillOnRandomMaps(int seed, double density)
    {
        const int W = 53;
        const int H = 37;
        var random = new Random(seed);
        byte[] map = new byte[W * H];
        for (int i = 0; i < map.Length; i++)
        {
            map[i] = random.NextDouble() < density ? (byte)random.Next(1, 4) : (byte)0;
        }

        int[] labels = new int[W * H];
        int[] parent = new int[(W * H) + 1];
        int next = ConnectedComponents.LabelProvisional(map, W, H, labels, parent);
        int count = ConnectedComponents.Resolve(parent, next);

        int[] expected = FloodFill(map, W, H, out int expectedCount);
        Assert.Equal(expectedCount, count);
        for (int i = 0; i < map.Length; i++)
        {
            if (map[i] != 0)
            {
                Assert.True(expected[i] == parent[labels[i]], $"pixel ({i % W}, {i / W}): flood fill says {expected[i]}, labelling {parent[labels[i]]}");
            }
        }
    }

    [Fact]
    public void DecisionMatchesTheRuleOnRandomProbabilities()
    {
        // 77 columns: vector steps plus a scalar tail; four defect classes with different thresholds.
        const int W = 77;
        const int H = 9;
        const int Pixels = W * H;
        float[] thresholds = [float.PositiveInfinity, 0.5f, 0.3f, 0.7f, 0.45f];
        var random = new Random(21);
        float[] probabilities = new float[4 * Pixels];
        for (int i = 0; i < probabilities.Length; i++)
        {
            probabilities[i] = (float)random.NextDouble();
        }

        byte[] keep = new byte[Pixels];
        for (int i = 0; i < Pixels; i++)
        {
            keep[i] = random.Next(5) == 0 ? (byte)0 : (byte)0xFF;
        }

        var region = new PixelRect(3, 1, 70, 7);
        byte[] actual = new byte[Pixels];
        actual.AsSpan().Fill(77);

        ClassDecision.Decide(probabilities, W, H, thresholds, region, keep, actual);

        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                int i = (y * W) + x;
                int expected = 0;
                bool inside = x >= region.X && x < region.X + region.Width && y >= region.Y && y < region.Y + region.Height;
                if (inside && keep[i] != 0)
                {
                    float best = 0;
                    for (int c = 1; c <= 4; c++)
                    {
                        float p = probabilities[((c - 1) * Pixels) + i];
                        if (p >= thresholds[c] && p > best)
                        {
                            (expected, best) = (c, p);
                        }
                    }
                }

                Assert.True(expected == actual[i], $"pixel ({x}, {y}): expected class {expected}, got {actual[i]}");
            }
        }
    }

    /// <summary>Reference: breadth-first flood fill over 8 neighbours of equal class, ids in raster order.</summary>
    private static int[] FloodFill(byte[] map, int width, int height, out int count)
    {
        int[] ids = new int[map.Length];
        count = 0;
        var queue = new Queue<int>();
        for (int start = 0; start < map.Length; start++)
        {
            if (map[start] == 0 || ids[start] != 0)
            {
                continue;
            }

            ids[start] = ++count;
            queue.Enqueue(start);
            while (queue.Count > 0)
            {
                int i = queue.Dequeue();
                int x = i % width;
                int y = i / width;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx;
                        int ny = y + dy;
                        if (nx < 0 || ny < 0 || nx >= width || ny >= height)
                        {
                            continue;
                        }

                        int n = (ny * width) + nx;
                        if (map[n] == map[start] && ids[n] == 0)
                        {
                            ids[n] = count;
                            queue.Enqueue(n);
                        }
                    }
                }
            }
        }

        return ids;
    }
}
