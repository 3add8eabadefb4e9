using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Core.Pipeline;

/// <summary>
/// Recent trigger-to-verdict latencies and per-stage times, for the summary line, health and the benchmark.
/// Recording is allocation-free (a ring of the last <see cref="Window"/> results); percentiles are computed
/// on demand by readers, off the hot path. Thread-safe.
/// </summary>
public sealed class LatencyStatistics
{
    private readonly Lock _gate = new();
    private readonly double[] _totals;
    private readonly double[,] _stages;
    private readonly long[] _timestamps;
    private int _next;
    private int _count;
    private long _recorded;

    /// <param name="timeProvider">Clock for throughput.</param>
    /// <param name="window">How many recent results the statistics cover.</param>
    public LatencyStatistics(TimeProvider timeProvider, int window = 2048)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 2);
        TimeProvider = timeProvider;
        Window = window;
        _totals = new double[window];
        _stages = new double[window, StageLatencies.Count];
        _timestamps = new long[window];
    }

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Results covered.</summary>
    public int Window { get; }

    /// <summary>Results recorded since start.</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>Records one inspected result's latencies.</summary>
    public void Record(in StageLatencies latencies)
    {
        long now = TimeProvider.GetTimestamp();
        lock (_gate)
        {
            _totals[_next] = latencies.TotalMilliseconds;
            for (int s = 0; s < StageLatencies.Count; s++)
            {
                _stages[_next, s] = latencies[(PipelineStage)s];
            }

            _timestamps[_next] = now;
            _next = (_next + 1) % Window;
            _count = Math.Min(_count + 1, Window);
        }

        Interlocked.Increment(ref _recorded);
    }

    /// <summary>Percentiles and throughput over the window (or over the last <paramref name="lastSeconds"/> seconds).</summary>
    public LatencySummary Summarize(double lastSeconds = double.PositiveInfinity)
    {
        double[] totals;
        double[][] stages = new double[StageLatencies.Count][];
        long now = TimeProvider.GetTimestamp();
        long oldest = long.MaxValue;
        lock (_gate)
        {
            var picked = new List<int>(_count);
            for (int i = 0; i < _count; i++)
            {
                int index = (_next - 1 - i + Window) % Window;
                if (TimeProvider.GetElapsedTime(_timestamps[index], now).TotalSeconds > lastSeconds)
                {
                    break;
                }

                picked.Add(index);
                oldest = _timestamps[index];
            }

            totals = new double[picked.Count];
            for (int s = 0; s < StageLatencies.Count; s++)
            {
                stages[s] = new double[picked.Count];
            }

            for (int i = 0; i < picked.Count; i++)
            {
                totals[i] = _totals[picked[i]];
                for (int s = 0; s < StageLatencies.Count; s++)
                {
                    stages[s][i] = _stages[picked[i], s];
                }
            }
        }

        double span = totals.Length > 1 ? TimeProvider.GetElapsedTime(oldest, now).TotalSeconds : 0;
        double fps = double.IsFinite(lastSeconds) && lastSeconds > 0 ? totals.Length / lastSeconds
            : span > 0 ? (totals.Length - 1) / span : 0;
        var stageMedians = new double[StageLatencies.Count];
        for (int s = 0; s < StageLatencies.Count; s++)
        {
            Array.Sort(stages[s]);
            stageMedians[s] = Percentile(stages[s], 0.5);
        }

        Array.Sort(totals);
        return new LatencySummary(totals.Length, fps, Percentile(totals, 0.5), Percentile(totals, 0.99),
            totals.Length > 0 ? totals[^1] : 0, stageMedians);
    }

    /// <summary>Nearest-rank percentile of sorted values (0 when empty).</summary>
    public static double Percentile(double[] sorted, double fraction)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Length == 0)
        {
            return 0;
        }

        int rank = (int)Math.Ceiling(fraction * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

/// <summary>Latency and throughput over a window of results.</summary>
/// <param name="Count">Results in the window.</param>
/// <param name="FramesPerSecond">Results per second over the window.</param>
/// <param name="P50Milliseconds">Median trigger-to-verdict latency.</param>
/// <param name="P99Milliseconds">99th percentile trigger-to-verdict latency.</param>
/// <param name="MaxMilliseconds">Worst trigger-to-verdict latency.</param>
/// <param name="StageMedianMilliseconds">Median time per <see cref="PipelineStage"/>.</param>
public sealed record LatencySummary(
    int Count,
    double FramesPerSecond,
    double P50Milliseconds,
    double P99Milliseconds,
    double MaxMilliseconds,
    IReadOnlyList<double> StageMedianMilliseconds);
