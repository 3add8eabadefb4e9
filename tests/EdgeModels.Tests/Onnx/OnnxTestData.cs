namespace EdgeModels.Tests.Onnx;

/// <summary>Seeded inputs that look like normalized images: smooth gradients plus a little noise, per channel.</summary>
internal static class OnnxTestData
{
    public static float[] SmoothImage(int seed, int channels, int size)
    {
        Random random = new(seed);
        float[] data = new float[channels * size * size];
        double fx = 0.05 + (random.NextDouble() * 0.2);
        double fy = 0.05 + (random.NextDouble() * 0.2);
        double phase = random.NextDouble() * 6;
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    data[(((c * size) + y) * size) + x] =
                        (float)(Math.Sin((x * fx) + (y * fy) + phase + c) + (0.3 * (random.NextDouble() - 0.5)));
                }
            }
        }

        return data;
    }

    public static List<float[]> SmoothImages(int count, int firstSeed, int channels, int size) =>
        [.. Enumerable.Range(firstSeed, count).Select(seed => SmoothImage(seed, channels, size))];

    public static double StandardDeviation(ReadOnlySpan<float> values)
    {
        double mean = 0;
        foreach (float value in values)
        {
            mean += value;
        }

        mean /= values.Length;
        double variance = 0;
        foreach (float value in values)
        {
            variance += (value - mean) * (value - mean);
        }

        return Math.Sqrt(variance / values.Length);
    }

    /// <summary>
    /// Share of pixels of a [1, classes, H, W] output whose top class in <paramref name="expected"/> leads the
    /// runner-up by at least <paramref name="margin"/> and is also the top class in <paramref name="actual"/>.
    /// </summary>
    public static (double Agreement, double DecisiveShare) DecisiveAgreement(float[] expected, float[] actual, int classes, double margin)
    {
        int pixels = expected.Length / classes;
        int decisive = 0;
        int agree = 0;
        for (int p = 0; p < pixels; p++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                best = expected[(c * pixels) + p] > expected[(best * pixels) + p] ? c : best;
            }

            double runnerUp = double.NegativeInfinity;
            int actualBest = 0;
            for (int c = 0; c < classes; c++)
            {
                runnerUp = c == best ? runnerUp : Math.Max(runnerUp, expected[(c * pixels) + p]);
                actualBest = actual[(c * pixels) + p] > actual[(actualBest * pixels) + p] ? c : actualBest;
            }

            if (expected[(best * pixels) + p] - runnerUp >= margin)
            {
                decisive++;
                agree += actualBest == best ? 1 : 0;
            }
        }

        return (decisive == 0 ? 0 : (double)agree / decisive, (double)decisive / pixels);
    }
}
