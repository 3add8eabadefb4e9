using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeModels.Cli.Evaluation;

namespace EdgeModels.Cli.Benchmarking;

/// <summary>Prints benchmark results as text or as one JSON object. Stateless.</summary>
internal static class BenchmarkReportWriter
{
    /// <summary>
    /// One JSON object with stable keys: package, model {id, version, precision, provider}, providers, batch, threads,
    /// warmup, runs, runSeconds, itemsPerSecond, framesPerSecond, latencyMs {mean, min, p50, p90, p99, max}; with a
    /// comparison also compare {the same for the baseline}, rounds, throughputRatio, roundRatios {min, median, max}.
    /// </summary>
    public static string ToJson(BenchmarkResult result, BenchmarkComparison? comparison = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            WriteResult(json, result);
            if (comparison is not null)
            {
                json.WriteStartObject("compare");
                WriteResult(json, comparison.Baseline);
                json.WriteEndObject();
                json.WriteNumber("rounds", comparison.Rounds);
                json.WriteNumber("throughputRatio", Math.Round(comparison.ThroughputRatio, 4));
                (double min, double median, double max) = Spread(comparison.RoundRatios);
                json.WriteStartObject("roundRatios");
                json.WriteNumber("min", Math.Round(min, 4));
                json.WriteNumber("median", Math.Round(median, 4));
                json.WriteNumber("max", Math.Round(max, 4));
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The result (and comparison) as text for a terminal.</summary>
    public static string ToText(BenchmarkResult result, BenchmarkComparison? comparison = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        WriteText(text, result);
        if (comparison is not null)
        {
            text.AppendLine();
            WriteText(text, comparison.Baseline);
            text.AppendLine();
            (double min, double median, double max) = Spread(comparison.RoundRatios);
            Line(text, $"throughput ratio {result.Label} / {comparison.Baseline.Label}: {comparison.ThroughputRatio:F3}x");
            Line(text, $"  measured in one run, {comparison.Rounds} alternating rounds; per round min {min:F3}x, median {median:F3}x, max {max:F3}x");
        }

        return text.ToString();
    }

    private static void WriteResult(Utf8JsonWriter json, BenchmarkResult result)
    {
        json.WriteString("package", result.Label);
        EvaluationReportWriter.WriteModel(json, result.Model);
        json.WriteString("providers", result.Providers);
        json.WriteNumber("batch", result.Batch);
        json.WriteNumber("threads", result.Threads);
        json.WriteNumber("warmup", result.WarmupRuns);
        json.WriteNumber("runs", result.Runs);
        json.WriteNumber("runSeconds", Math.Round(result.RunSeconds, 4));
        json.WriteNumber("itemsPerSecond", Math.Round(result.ItemsPerSecond, 3));
        json.WriteNumber("framesPerSecond", Math.Round(result.FramesPerSecond, 3));
        LatencySummary latency = result.Latency;
        json.WriteStartObject("latencyMs");
        json.WriteNumber("mean", Math.Round(latency.Mean, 3));
        json.WriteNumber("min", Math.Round(latency.Min, 3));
        json.WriteNumber("p50", Math.Round(latency.P50, 3));
        json.WriteNumber("p90", Math.Round(latency.P90, 3));
        json.WriteNumber("p99", Math.Round(latency.P99, 3));
        json.WriteNumber("max", Math.Round(latency.Max, 3));
        json.WriteEndObject();
    }

    private static void WriteText(StringBuilder text, BenchmarkResult result)
    {
        LatencySummary latency = result.Latency;
        string threads = result.Threads == 0 ? "one per physical core" : result.Threads.ToString(CultureInfo.InvariantCulture);
        Line(text, $"{result.Label}: {result.Model.Id} {result.Model.Version} ({result.Model.Precision}) on {result.Providers}");
        Line(text, $"  batch {result.Batch}, threads {threads}, {result.WarmupRuns} warm-up runs, {result.Runs} measured runs ({result.RunSeconds:F2} s in Run)");
        Line(text, $"  throughput  {result.ItemsPerSecond:F2} items/s, {result.FramesPerSecond:F2} frames/s (a frame = one Run of {result.Batch} input-sized tiles)");
        Line(text, $"  latency     p50 {latency.P50:F2} ms, p90 {latency.P90:F2} ms, p99 {latency.P99:F2} ms (mean {latency.Mean:F2}, min {latency.Min:F2}, max {latency.Max:F2})");
    }

    private static (double Min, double Median, double Max) Spread(IReadOnlyList<double> values)
    {
        double[] sorted = [.. values];
        Array.Sort(sorted);
        return (sorted[0], LatencySummary.Percentile(sorted, 50), sorted[^1]);
    }

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
}
