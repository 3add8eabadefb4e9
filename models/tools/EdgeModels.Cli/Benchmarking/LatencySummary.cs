namespace EdgeModels.Cli.Benchmarking;

/// <summary>Latency distribution of a series of runs, in milliseconds. Percentiles use the nearest-rank method.</summary>
internal sealed record LatencySummary(int Count, double Mean, double Min, double P50, double P90, double P99, double Max)
{
    /// <summary>Summarises <paramref name="latenciesMs"/> (not modified); at least one value.</summary>
    public static LatencySummary From(IReadOnlyCollection<double> latenciesMs)
    {
        ArgumentNullException.ThrowIfNull(latenciesMs);
        ArgumentOutOfRangeException.ThrowIfZero(latenciesMs.Count);
        double[] sorted = [.. latenciesMs];
        Array.Sort(sorted);
        return new LatencySummary(
            sorted.Length,
            sorted.Average(),
            sorted[0],
            Percentile(sorted, 50),
            Percentile(sorted, 90),
            Percentile(sorted, 99),
            sorted[^1]);
    }

    /// <summary>
    /// The nearest-rank percentile: the smallest value with at least <paramref name="percent"/>% of the values at or
    /// below it, so it is always a latency that was measured (p99 of 100 runs is the 99th slowest-but-one).
    /// </summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double percent)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sorted.Length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        int rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}
