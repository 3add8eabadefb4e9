using EdgeRuntime.Core.Inspection;

namespace EdgeModels.Cli.Benchmarking;

/// <summary>What one model did in a benchmark. Throughput is over the summed Run latencies.</summary>
/// <param name="Label">The package folder name.</param>
/// <param name="Model">The model and the execution provider that ran it.</param>
/// <param name="Providers">The provider selection in words, with the reasons earlier providers were skipped.</param>
/// <param name="Batch">Items per Run: one frame of that many model-input-sized tiles.</param>
/// <param name="Threads">ONNX Runtime intra-op threads as configured; 0 is one per physical core.</param>
/// <param name="WarmupRuns">Unrecorded runs before the measurement.</param>
/// <param name="RunSeconds">Summed latency of the measured runs, in seconds.</param>
/// <param name="Latency">Per-Run latency, in milliseconds.</param>
internal sealed record BenchmarkResult(
    string Label,
    ModelIdentity Model,
    string Providers,
    int Batch,
    int Threads,
    int WarmupRuns,
    double RunSeconds,
    LatencySummary Latency)
{
    public int Runs => Latency.Count;

    /// <summary>Model-input-sized items (tiles) per second.</summary>
    public double ItemsPerSecond => Runs * (double)Batch / RunSeconds;

    /// <summary>Runs (frames of <see cref="Batch"/> tiles) per second.</summary>
    public double FramesPerSecond => Runs / RunSeconds;
}

/// <summary>Two models measured alternately in one process.</summary>
/// <param name="Model">The --model result.</param>
/// <param name="Baseline">The --compare result.</param>
/// <param name="Rounds">Alternating rounds run.</param>
/// <param name="RoundRatios">Per-round throughput ratios (model / baseline), in round order.</param>
internal sealed record BenchmarkComparison(BenchmarkResult Model, BenchmarkResult Baseline, int Rounds, IReadOnlyList<double> RoundRatios)
{
    /// <summary>Model throughput over baseline throughput, over all rounds.</summary>
    public double ThroughputRatio => Model.ItemsPerSecond / Baseline.ItemsPerSecond;
}
