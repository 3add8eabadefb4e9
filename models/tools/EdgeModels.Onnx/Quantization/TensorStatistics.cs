namespace EdgeModels.Onnx.Quantization;

/// <summary>
/// Running statistics of one activation tensor across calibration samples: min/max, and for percentile
/// calibration a histogram of magnitudes, split by sign.
/// </summary>
/// <remarks>
/// The histogram covers [0, range) in <see cref="Bins"/> equal bins; range is a power of two that doubles (merging
/// bin pairs exactly) whenever a larger magnitude arrives, so one pass over the samples suffices. Not thread-safe.
/// </remarks>
internal sealed class TensorStatistics
{
    internal const int Bins = 2048;

    private readonly long[]? _positive;
    private readonly long[]? _negative;
    private double _range;

    public TensorStatistics(bool histogram)
    {
        if (histogram)
        {
            _positive = new long[Bins];
            _negative = new long[Bins];
        }
    }

    public float Min { get; private set; } = float.PositiveInfinity;

    public float Max { get; private set; } = float.NegativeInfinity;

    public long Count { get; private set; }

    public void Add(ReadOnlySpan<float> values)
    {
        float min = Min;
        float max = Max;
        foreach (float value in values)
        {
            if (float.IsFinite(value))
            {
                min = Math.Min(min, value);
                max = Math.Max(max, value);
            }
        }

        Min = min;
        Max = max;
        if (_positive is null || _negative is null)
        {
            Count += values.Length;
            return;
        }

        GrowTo(Math.Max(Math.Abs(min), Math.Abs(max)));
        double binsPerUnit = Bins / _range;
        foreach (float value in values)
        {
            if (!float.IsFinite(value))
            {
                continue;
            }

            int bin = Math.Min((int)(Math.Abs(value) * binsPerUnit), Bins - 1);
            if (value >= 0)
            {
                _positive[bin]++;
            }
            else
            {
                _negative[bin]++;
            }

            Count++;
        }
    }

    /// <summary>The calibrated range; <paramref name="percentile"/> null means min/max.</summary>
    public TensorRange Range(double? percentile, bool symmetric)
    {
        if (Count == 0 || float.IsInfinity(Min))
        {
            return new TensorRange(0f, 0f);
        }

        if (percentile is not { } p || p >= 100 || _positive is null || _negative is null)
        {
            return new TensorRange(Min, Max);
        }

        if (symmetric)
        {
            long[] magnitude = new long[Bins];
            for (int i = 0; i < Bins; i++)
            {
                magnitude[i] = _positive[i] + _negative[i];
            }

            float amax = Math.Min(UpperEdge(magnitude, (long)Math.Ceiling(Count * p / 100.0)), Math.Max(Math.Abs(Min), Math.Abs(Max)));
            return new TensorRange(Math.Max(Min, -amax), Math.Min(Max, amax));
        }

        // Each tail loses half of the share the percentile leaves out.
        long cutPerTail = (long)Math.Floor(Count * (100.0 - p) / 200.0);
        float upper = Tail(_positive, cutPerTail);
        float lower = -Tail(_negative, cutPerTail);
        return new TensorRange(Math.Max(Min, lower), Math.Min(Max, upper));
    }

    // Smallest magnitude m such that at most `cut` values of this sign lie above m.
    private float Tail(long[] histogram, long cut)
    {
        long total = histogram.Sum();
        return total <= cut ? 0f : UpperEdge(histogram, total - cut);
    }

    // Upper edge of the first bin at which the running count reaches `needed`.
    private float UpperEdge(long[] histogram, long needed)
    {
        long running = 0;
        for (int i = 0; i < Bins; i++)
        {
            running += histogram[i];
            if (running >= needed)
            {
                return (float)((i + 1) * _range / Bins);
            }
        }

        return (float)_range;
    }

    private void GrowTo(float magnitude)
    {
        if (_range == 0)
        {
            // Start at the power of two just above the first magnitude (tiny floor for all-zero tensors).
            _range = Math.Pow(2, Math.Ceiling(Math.Log2(Math.Max(magnitude, 1e-20f))));
            if (_range <= magnitude)
            {
                _range *= 2;
            }

            return;
        }

        while (magnitude >= _range)
        {
            Merge(_positive!);
            Merge(_negative!);
            _range *= 2;
        }
    }

    private static void Merge(long[] histogram)
    {
        for (int i = 0; i < Bins / 2; i++)
        {
            histogram[i] = histogram[2 * i] + histogram[(2 * i) + 1];
        }

        Array.Clear(histogram, Bins / 2, Bins / 2);
    }
}
