using System.CommandLine;
using System.Globalization;
using EdgeModels.Cli.Benchmarking;
using EdgeModels.Cli.Evaluation;
using EdgeRuntime.Inference.Models;
using Microsoft.ML.OnnxRuntime;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models bench</c>: loads a package through the runtime's loader and times the session's Run on a fixed
/// input: warm-up, then throughput and latency percentiles. <c>--compare</c> measures a second model in the same
/// process, alternating rounds, and prints the throughput ratio. Exit code 0 when measured, 1 when a model is
/// refused or fails to run, 2 for a wrong command line.
/// </summary>
internal static class BenchCommand
{
    private const int DefaultRuns = 100;
    private const int MaxBatch = 256;

    public static Command Create()
    {
        RuntimeModel.CommandOptions model = new();
        Option<int> batchOption = new("--batch")
        {
            Description = "Model-input-sized items per Run (one frame of that many tiles).",
            DefaultValueFactory = _ => 1,
        };
        Option<int> warmupOption = new("--warmup") { Description = "Unrecorded runs of each model first.", DefaultValueFactory = _ => 10 };
        Option<int?> iterationsOption = new("--iterations") { Description = $"Measured runs per model (default {DefaultRuns})." };
        Option<double?> secondsOption = new("--seconds") { Description = "Measure each model for this many seconds instead of --iterations." };
        Option<string?> compareOption = new("--compare")
        {
            Description = "A second package (the baseline) measured in the same run in alternating rounds; prints model / baseline throughput.",
        };
        Option<int> roundsOption = new("--rounds")
        {
            Description = "With --compare: alternating rounds the measurement is split into.",
            DefaultValueFactory = _ => 10,
        };
        Option<bool> jsonOption = new("--json") { Description = "Print one JSON object instead of text." };

        Command command = new("bench", "Measure a model's inference throughput and latency on the runtime's session.");
        model.AddTo(command);
        foreach (Option option in new Option[] { batchOption, warmupOption, iterationsOption, secondsOption, compareOption, roundsOption, jsonOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) =>
        {
            List<string> problems = [];
            int batch = parse.GetValue(batchOption);
            int warmup = parse.GetValue(warmupOption);
            int? iterations = parse.GetValue(iterationsOption);
            double? seconds = parse.GetValue(secondsOption);
            int rounds = parse.GetValue(roundsOption);
            Check(problems, batch is >= 1 and <= MaxBatch, $"--batch {batch} is out of range; use 1 to {MaxBatch}");
            Check(problems, warmup is >= 0 and <= 100_000, $"--warmup {warmup} is out of range; use 0 to 100000");
            Check(problems, iterations is null or >= 1, $"--iterations {iterations} must be at least 1");
            Check(problems, seconds is null or (> 0 and <= 86_400), $"--seconds {seconds} is out of range; use more than 0 and at most 86400");
            Check(problems, iterations is null || seconds is null, $"--iterations and --seconds exclude each other; give one");
            Check(problems, rounds is >= 1 and <= 10_000, $"--rounds {rounds} is out of range; use 1 to 10000");
            RuntimeModelSettings? settings = model.Read(parse, batch, problems);
            var plan = new BenchmarkPlan(warmup, seconds is null ? iterations ?? DefaultRuns : null, seconds is double s ? TimeSpan.FromSeconds(s) : null);
            return RunAsync(settings, parse.GetValue(compareOption), rounds, plan, parse.GetValue(jsonOption), problems,
                parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        RuntimeModelSettings? settings,
        string? compare,
        int rounds,
        BenchmarkPlan plan,
        bool json,
        List<string> problems,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        if (settings is null || problems.Count > 0)
        {
            foreach (string problem in problems)
            {
                await error.WriteLineAsync("bench: " + problem).ConfigureAwait(false);
            }

            return PackageConsole.UsageError;
        }

        using OnnxModelProvider? models = await RuntimeModel.LoadAsync(settings, error, cancellationToken).ConfigureAwait(false);
        if (models is null)
        {
            return PackageConsole.ProblemsFound;
        }

        OnnxModelProvider? baselineModels = null;
        try
        {
            if (compare is not null)
            {
                baselineModels = await RuntimeModel.LoadAsync(settings with { PackagePath = compare }, error, cancellationToken).ConfigureAwait(false);
                if (baselineModels is null)
                {
                    return PackageConsole.ProblemsFound;
                }
            }

            string measure = plan.Runs is int runs
                ? string.Create(CultureInfo.InvariantCulture, $"{runs} runs")
                : string.Create(CultureInfo.InvariantCulture, $"{plan.Duration!.Value.TotalSeconds:G} s");
            await error.WriteLineAsync($"bench: {plan.WarmupRuns} warm-up runs, then {measure} per model, batch {settings.MaxBatch}")
                .ConfigureAwait(false);
            string report = await Task.Run(() => Measure(models, settings, baselineModels, compare, rounds, plan, json, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            await output.WriteLineAsync(report.TrimEnd()).ConfigureAwait(false);
            return PackageConsole.Success;
        }
        catch (OnnxRuntimeException ex)
        {
            await error.WriteLineAsync("bench: ONNX Runtime failed to run the model: " + ex.Message).ConfigureAwait(false);
            return PackageConsole.ProblemsFound;
        }
        finally
        {
            baselineModels?.Dispose();
        }
    }

    private static string Measure(
        OnnxModelProvider models,
        RuntimeModelSettings settings,
        OnnxModelProvider? baselineModels,
        string? compare,
        int rounds,
        BenchmarkPlan plan,
        bool json,
        CancellationToken cancellationToken)
    {
        string providers = models.Active!.Providers.ToString();
        using var model = new SessionBenchmark(models, RuntimeModel.Label(settings.PackagePath), settings.MaxBatch, TimeProvider.System);
        if (baselineModels is null || compare is null)
        {
            BenchmarkResult result = BenchmarkRunner.Run(model, providers, settings.IntraOpThreads, plan, cancellationToken);
            return json ? BenchmarkReportWriter.ToJson(result) : BenchmarkReportWriter.ToText(result);
        }

        using var baseline = new SessionBenchmark(baselineModels, RuntimeModel.Label(compare), settings.MaxBatch, TimeProvider.System);
        BenchmarkComparison comparison = BenchmarkRunner.Compare(
            model, providers, baseline, baselineModels.Active!.Providers.ToString(), settings.IntraOpThreads, plan, rounds, cancellationToken);
        return json
            ? BenchmarkReportWriter.ToJson(comparison.Model, comparison)
            : BenchmarkReportWriter.ToText(comparison.Model, comparison);
    }

    private static void Check(List<string> problems, bool valid, FormattableString problem)
    {
        if (!valid)
        {
            problems.Add(problem.ToString(CultureInfo.InvariantCulture));
        }
    }
}
