namespace EdgeModels.Cli.Benchmarking;

/// <summary>How long a benchmark measures: a number of runs, or a time, per model.</summary>
/// <param name="WarmupRuns">Unrecorded runs of each model first.</param>
/// <param name="Runs">Measured runs per model; null when <paramref name="Duration"/> is used.</param>
/// <param name="Duration">Measured time per model; null when <paramref name="Runs"/> is used.</param>
internal sealed record BenchmarkPlan(int WarmupRuns, int? Runs, TimeSpan? Duration);

/// <summary>Warms up and measures one model, or two alternately. Single-threaded.</summary>
internal static class BenchmarkRunner
{
    /// <summary>Warm-up, then the plan's runs or time.</summary>
    public static BenchmarkResult Run(SessionBenchmark model, string providers, int threads, BenchmarkPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        model.Warmup(plan.WarmupRuns, cancellationToken);
        Measure(model, plan.Runs, plan.Duration, cancellationToken);
        return Result(model, providers, threads, plan);
    }

    /// <summary>
    /// Warms both up, then measures them in <paramref name="rounds"/> alternating rounds, each model getting
    /// 1/<paramref name="rounds"/> of the plan per round. The order flips every round (AB, BA, AB, ...) so a drift
    /// in the machine's speed (clock boost, thermal throttling, a neighbour's load) falls on both models alike and
    /// cancels in their ratio.
    /// </summary>
    public static BenchmarkComparison Compare(
        SessionBenchmark model,
        string modelProviders,
        SessionBenchmark baseline,
        string baselineProviders,
        int threads,
        BenchmarkPlan plan,
        int rounds,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rounds);
        model.Warmup(plan.WarmupRuns, cancellationToken);
        baseline.Warmup(plan.WarmupRuns, cancellationToken);
        int? runsPerRound = plan.Runs is int runs ? Math.Max(1, (runs + rounds - 1) / rounds) : null;
        TimeSpan? timePerRound = plan.Duration / rounds;
        var ratios = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            (SessionBenchmark first, SessionBenchmark second) = round % 2 == 0 ? (model, baseline) : (baseline, model);
            (int modelRuns, double modelSeconds) = (model.LatenciesMs.Count, model.RunSeconds);
            (int baselineRuns, double baselineSeconds) = (baseline.LatenciesMs.Count, baseline.RunSeconds);
            Measure(first, runsPerRound, timePerRound, cancellationToken);
            Measure(second, runsPerRound, timePerRound, cancellationToken);
            double modelRate = (model.LatenciesMs.Count - modelRuns) * (double)model.Batch / (model.RunSeconds - modelSeconds);
            double baselineRate = (baseline.LatenciesMs.Count - baselineRuns) * (double)baseline.Batch / (baseline.RunSeconds - baselineSeconds);
            ratios[round] = modelRate / baselineRate;
        }

        return new BenchmarkComparison(Result(model, modelProviders, threads, plan), Result(baseline, baselineProviders, threads, plan), rounds, ratios);
    }

    private static void Measure(SessionBenchmark model, int? runs, TimeSpan? duration, CancellationToken cancellationToken)
    {
        if (runs is int count)
        {
            model.Measure(count, cancellationToken);
        }
        else
        {
            model.MeasureFor(duration ?? throw new ArgumentException("a plan needs runs or a duration"), cancellationToken);
        }
    }

    private static BenchmarkResult Result(SessionBenchmark model, string providers, int threads, BenchmarkPlan plan) =>
        new(model.Label, model.Model, providers, model.Batch, threads, plan.WarmupRuns, model.RunSeconds, LatencySummary.From(model.LatenciesMs));
}
