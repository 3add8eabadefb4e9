using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;

namespace EdgeRuntime.Benchmarks;

/// <summary>Percentiles of a latency sample and each stage's share of the trigger-to-result time.</summary>
/// <param name="Count">Results in the sample.</param>
/// <param name="P50Milliseconds">Median trigger-to-result latency.</param>
/// <param name="P99Milliseconds">99th percentile (nearest rank).</param>
/// <param name="MaxMilliseconds">Worst.</param>
/// <param name="StageMedianMilliseconds">Median per <see cref="PipelineStage"/>.</param>
/// <param name="StageMeanShares">Each stage's share of the summed trigger-to-result time.</param>
internal sealed record LatencyFigures(int Count, double P50Milliseconds, double P99Milliseconds, double MaxMilliseconds,
    double[] StageMedianMilliseconds, double[] StageMeanShares)
{
    /// <summary>The yardstick: p99 at most this much times the sum of the stages' medians.</summary>
    public const double TargetFactor = 1.25;

    public double SumOfStageMedians
    {
        get
        {
            double sum = 0;
            foreach (double median in StageMedianMilliseconds)
            {
                sum += median;
            }

            return sum;
        }
    }

    public double P99ToSumOfStageMedians => SumOfStageMedians > 0 ? P99Milliseconds / SumOfStageMedians : double.NaN;

    public bool MeetsTarget => Count > 0 && P99Milliseconds <= TargetFactor * SumOfStageMedians;

    public static LatencyFigures From(LatencySample sample)
    {
        double[] totals = [.. sample.Totals];
        Array.Sort(totals);
        var medians = new double[StageLatencies.Count];
        var shares = new double[StageLatencies.Count];
        double all = 0;
        foreach (double total in totals)
        {
            all += total;
        }

        for (int s = 0; s < medians.Length; s++)
        {
            double[] stage = [.. sample.Stages[s]];
            double sum = 0;
            foreach (double value in stage)
            {
                sum += value;
            }

            Array.Sort(stage);
            medians[s] = LatencyStatistics.Percentile(stage, 0.5);
            shares[s] = all > 0 ? sum / all : 0;
        }

        return new LatencyFigures(totals.Length, LatencyStatistics.Percentile(totals, 0.5), LatencyStatistics.Percentile(totals, 0.99),
            totals.Length > 0 ? totals[^1] : 0, medians, shares);
    }
}

/// <summary>One alternating round of the throughput comparison (all three measured back to back).</summary>
internal sealed record ThroughputRound(int Round, string Order, Throughput Bare, Throughput Pipeline, Throughput Naive)
{
    /// <summary>
    /// Set when other work on the machine took cores from the bare or the pipeline side: that side used less than
    /// <see cref="Rounds.DisturbedShare"/> of the CPU share it used in its best round.
    /// </summary>
    public bool Disturbed { get; init; }

    public double PipelineToBare => Pipeline.FramesPerSecond / Bare.FramesPerSecond;

    public double PipelineToNaive => Pipeline.FramesPerSecond / Naive.FramesPerSecond;

    /// <summary>Bare CPU time per frame over the pipeline's: 1 when the pipeline costs the cores exactly what bare ONNX Runtime does.</summary>
    public double PipelineToBareCpu => Bare.CpuMillisecondsPerFrame / Pipeline.CpuMillisecondsPerFrame;
}

/// <summary>One alternating round of the preprocessing-vs-copy comparison, in milliseconds per frame.</summary>
internal sealed record PreprocessRound(double PreprocessMilliseconds, double CopyMilliseconds)
{
    public double Ratio => PreprocessMilliseconds / CopyMilliseconds;
}

/// <summary>One alternating round of the tiled comparison.</summary>
internal sealed record TiledRound(Throughput Pipeline, Throughput BareTiles)
{
    public double Ratio => Pipeline.FramesPerSecond / BareTiles.FramesPerSecond;
}

/// <summary>Medians over rounds.</summary>
internal static class Rounds
{
    /// <summary>A side that got less than this fraction of its best round's CPU share was slowed by other work.</summary>
    public const double DisturbedShare = 0.85;

    /// <summary>The least undisturbed rounds the headline figures are taken from; with fewer, every round counts.</summary>
    public const int MinimumUndisturbed = 3;

    /// <summary>Marks the rounds in which the bare or the pipeline side was starved of CPU by other work on the machine.</summary>
    public static List<ThroughputRound> MarkDisturbed(IReadOnlyList<ThroughputRound> rounds)
    {
        double bestBare = 0;
        double bestPipeline = 0;
        foreach (ThroughputRound r in rounds)
        {
            bestBare = Math.Max(bestBare, r.Bare.CpuShare);
            bestPipeline = Math.Max(bestPipeline, r.Pipeline.CpuShare);
        }

        var marked = new List<ThroughputRound>(rounds.Count);
        foreach (ThroughputRound r in rounds)
        {
            marked.Add(r with { Disturbed = r.Bare.CpuShare < DisturbedShare * bestBare || r.Pipeline.CpuShare < DisturbedShare * bestPipeline });
        }

        return marked;
    }

    public static double Median<T>(IReadOnlyList<T> rounds, Func<T, double> value)
    {
        var values = new double[rounds.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = value(rounds[i]);
        }

        Array.Sort(values);
        if (values.Length == 0)
        {
            return double.NaN;
        }

        // The mean of the middle two for an even count, so two rounds do not just report the worse one.
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    /// <summary>Allocated bytes per frame over all rounds together (a frame-weighted mean).</summary>
    public static double AllocatedBytesPerFrame(IEnumerable<Throughput> windows)
    {
        long bytes = 0;
        long frames = 0;
        foreach (Throughput window in windows)
        {
            bytes += window.AllocatedBytes;
            frames += window.Frames;
        }

        return frames > 0 ? (double)bytes / frames : double.NaN;
    }

    public static GcCounts Collections(IEnumerable<Throughput> windows)
    {
        GcCounts sum = default;
        foreach (Throughput window in windows)
        {
            sum += window.Collections;
        }

        return sum;
    }
}
