namespace EdgeModels.Cli.Evaluation;

/// <summary>
/// A K x K pixel confusion matrix (rows: true class, columns: predicted class) summed over every pixel of an
/// evaluation set, from which per-class and any-defect overlap scores are read. Not thread-safe.
/// </summary>
internal sealed class PixelConfusion
{
    private readonly long[] _counts;

    /// <param name="classCount">K, the number of classes including class 0 (good); at most 256.</param>
    public PixelConfusion(int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classCount, 256);
        ClassCount = classCount;
        _counts = new long[classCount * classCount];
    }

    /// <summary>K.</summary>
    public int ClassCount { get; }

    /// <summary>Pixels counted so far.</summary>
    public long Pixels { get; private set; }

    /// <summary>Counts one image: <paramref name="truth"/> and <paramref name="predicted"/> hold one class index per pixel.</summary>
    /// <exception cref="ArgumentException">The maps differ in length or hold a class index of K or more.</exception>
    public void Add(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted)
    {
        if (truth.Length != predicted.Length)
        {
            throw new ArgumentException($"the truth map has {truth.Length} pixels, the prediction {predicted.Length}", nameof(predicted));
        }

        int k = ClassCount;
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i];
            int p = predicted[i];
            if (t >= k || p >= k)
            {
                throw new ArgumentException($"pixel {i} has class {Math.Max(t, p)}; the model has {k} classes (0-{k - 1})", nameof(truth));
            }

            _counts[(t * k) + p]++;
        }

        Pixels += truth.Length;
    }

    /// <summary>Pixels of true class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[(truth * ClassCount) + predicted];

    /// <summary>Pixels of class <paramref name="c"/> in both truth and prediction.</summary>
    public long TruePositives(int c) => this[c, c];

    /// <summary>Pixels predicted as <paramref name="c"/> whose true class is another.</summary>
    public long FalsePositives(int c) => PredictedPixels(c) - TruePositives(c);

    /// <summary>Pixels of true class <paramref name="c"/> predicted as another.</summary>
    public long FalseNegatives(int c) => TruthPixels(c) - TruePositives(c);

    /// <summary>Pixels whose true class is <paramref name="c"/>.</summary>
    public long TruthPixels(int c)
    {
        long sum = 0;
        for (int p = 0; p < ClassCount; p++)
        {
            sum += this[c, p];
        }

        return sum;
    }

    /// <summary>Pixels predicted as <paramref name="c"/>.</summary>
    public long PredictedPixels(int c)
    {
        long sum = 0;
        for (int t = 0; t < ClassCount; t++)
        {
            sum += this[t, c];
        }

        return sum;
    }

    /// <summary>
    /// Defect versus good with every defect class merged: a true defect pixel predicted as any defect class is a
    /// true positive, whichever class it was given.
    /// </summary>
    public (long TruePositives, long FalsePositives, long FalseNegatives) AnyDefect()
    {
        long truePositives = 0;
        long falsePositives = 0;
        long falseNegatives = 0;
        for (int t = 0; t < ClassCount; t++)
        {
            for (int p = 0; p < ClassCount; p++)
            {
                long count = this[t, p];
                if (t != 0 && p != 0)
                {
                    truePositives += count;
                }
                else if (t == 0 && p != 0)
                {
                    falsePositives += count;
                }
                else if (t != 0)
                {
                    falseNegatives += count;
                }
            }
        }

        return (truePositives, falsePositives, falseNegatives);
    }
}
