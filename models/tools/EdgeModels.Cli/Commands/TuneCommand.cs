using System.CommandLine;
using System.Globalization;
using EdgeModels.Cli.Evaluation;
using EdgeModels.Cli.Tuning;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Inference;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.ModelPackages;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Core.Inspection;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models tune</c>: finds the per-class thresholds and minimum areas with which a package best meets an
/// image-level recall and false-reject target on a labelled validation set, judging each candidate exactly as
/// edge-runtime would (the package's own session, tiling, stitching and class decision), and with <c>--write</c>
/// puts the best into the package's manifest. Exit code 0 when the set was measured (whether or not the targets are
/// met), 1 when an image, mask or the model cannot be used, 2 for a wrong command line.
/// </summary>
internal static class TuneCommand
{
    private static readonly double[] s_defaultThresholds = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    private static readonly int[] s_defaultMinAreas = [1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 30];

    public static Command Create()
    {
        RuntimeModel.CommandOptions model = new();
        Option<string> imagesOption = new("--images") { Description = "Folder of validation images (PNG, JPEG, BMP), never the set the figures are reported on.", Required = true };
        Option<string> masksOption = new("--masks") { Description = "Folder of truth masks: 8-bit PNGs of the same file names whose pixel values are class indices.", Required = true };
        Option<double> recallOption = new("--recall") { Description = "Image-level defect recall to reach, 0-1.", DefaultValueFactory = _ => 0.99 };
        Option<double> falseRejectOption = new("--false-reject") { Description = "False-reject rate not to exceed, 0-1.", DefaultValueFactory = _ => 0.02 };
        Option<string> thresholdsOption = new("--thresholds")
        {
            Description = "Candidate per-pixel thresholds, comma-separated, each in (0, 1); tried for every defect class (the manifest's own are added).",
            DefaultValueFactory = _ => string.Join(',', s_defaultThresholds.Select(t => t.ToString(CultureInfo.InvariantCulture))),
        };
        Option<string> minAreasOption = new("--min-areas")
        {
            Description = "Candidate minimum areas in model-input pixels, comma-separated, each 0 or more (the manifest's own are added).",
            DefaultValueFactory = _ => string.Join(',', s_defaultMinAreas.Select(m => m.ToString(CultureInfo.InvariantCulture))),
        };
        Option<int> topOption = new("--top") { Description = "How many of the best rules to list.", DefaultValueFactory = _ => 10 };
        Option<int?> limitOption = new("--limit") { Description = "Use only the first N images (in name order)." };
        Option<bool> writeOption = new("--write") { Description = "Write the best rule into the package's manifest.json (removes a signature it makes stale)." };
        Option<bool> jsonOption = new("--json") { Description = "Print one JSON object instead of the table." };

        Command command = new("tune", "Tune a package's per-class thresholds and minimum areas on labelled images, judged exactly as edge-runtime does.");
        model.AddTo(command);
        command.Options.Add(imagesOption);
        command.Options.Add(masksOption);
        command.Options.Add(recallOption);
        command.Options.Add(falseRejectOption);
        command.Options.Add(thresholdsOption);
        command.Options.Add(minAreasOption);
        command.Options.Add(topOption);
        command.Options.Add(limitOption);
        command.Options.Add(writeOption);
        command.Options.Add(jsonOption);
        command.SetAction((parse, cancellationToken) =>
        {
            List<string> problems = [];
            double recall = parse.GetValue(recallOption);
            double falseReject = parse.GetValue(falseRejectOption);
            if (recall is <= 0 or > 1 || double.IsNaN(recall))
            {
                problems.Add(Invariant($"--recall {recall} must be in (0, 1]"));
            }

            if (falseReject is < 0 or >= 1 || double.IsNaN(falseReject))
            {
                problems.Add(Invariant($"--false-reject {falseReject} must be in [0, 1)"));
            }

            double[] thresholds = ParseList<double>(parse.GetValue(thresholdsOption), "--thresholds", t => t is > 0 and < 1, "a probability in (0, 1), both ends excluded", problems);
            int[] minAreas = ParseList<int>(parse.GetValue(minAreasOption), "--min-areas", m => m >= 0, "a whole number of pixels, 0 or more", problems);
            int top = parse.GetValue(topOption);
            if (top < 1)
            {
                problems.Add(Invariant($"--top {top} must be at least 1"));
            }

            int? limit = parse.GetValue(limitOption);
            if (limit is <= 0)
            {
                problems.Add(Invariant($"--limit {limit} must be at least 1"));
            }

            RuntimeModelSettings? settings = model.Read(parse, new InferenceOptions().MaxBatch, problems);
            var request = new TuneRequest(
                parse.GetRequiredValue(imagesOption), parse.GetRequiredValue(masksOption), recall, falseReject, thresholds, minAreas, top, limit,
                parse.GetValue(writeOption), parse.GetValue(jsonOption));
            return RunAsync(settings, request, problems, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        RuntimeModelSettings? settings,
        TuneRequest request,
        List<string> problems,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        (OnnxModelProvider? loaded, IReadOnlyList<LabelledImage> set, int exitCode) = await LabelledSetCommand.PrepareAsync(
            "tune", settings, request.Images, request.Masks, request.Limit, problems, error, cancellationToken).ConfigureAwait(false);
        using OnnxModelProvider? models = loaded;
        if (models is null)
        {
            return exitCode;
        }

        RuleSweep sweep;
        try
        {
            sweep = new RuleSweep(models.Active!.Manifest, request.Thresholds, request.MinAreas);
        }
        catch (ArgumentException ex)
        {
            await error.WriteLineAsync("tune: " + ex.Message).ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        using var frames = new FramePool(4);
        var tuner = new RuleTuner(models, frames);
        var progress = new ProgressLine(error);
        ModelIdentity? identity = await LabelledSetCommand.MeasureAsync(
            "tune", () => tuner.Measure(set, sweep, progress.Report, cancellationToken), error, cancellationToken).ConfigureAwait(false);
        if (identity is null)
        {
            return PackageConsole.ProblemsFound;
        }

        VerdictRule current;
        IReadOnlyList<VerdictRule> best;
        try
        {
            (current, best) = sweep.Search(request.Recall, request.FalseReject, request.Top);
        }
        catch (InvalidOperationException ex)
        {
            await error.WriteLineAsync("tune: " + ex.Message).ConfigureAwait(false);
            return PackageConsole.ProblemsFound;
        }

        bool signatureRemoved = false;
        if (request.Write)
        {
            string directory = RuntimeModel.PackageDirectory(settings!.PackagePath, out _)!;
            signatureRemoved = await WriteAsync(directory, best[0], cancellationToken).ConfigureAwait(false);
        }

        var report = new TuningReport
        {
            Model = identity,
            ClassNames = [.. models.Active.Manifest.Classes.Select(c => c.Name)],
            Images = sweep.Images,
            DefectiveImages = sweep.DefectiveImages,
            TargetRecall = request.Recall,
            TargetFalseRejectRate = request.FalseReject,
            ThresholdSets = sweep.ThresholdSets.Count,
            MinAreaSets = sweep.MinAreaSets,
            Current = current,
            Best = best,
            Written = request.Write,
            SignatureRemoved = signatureRemoved,
        };
        await output.WriteAsync(request.Json ? TuningReportWriter.ToJson(report) + Environment.NewLine : TuningReportWriter.ToText(report))
            .ConfigureAwait(false);
        return PackageConsole.Success;
    }

    /// <summary>Writes the rule into manifest.json atomically; returns whether a now stale signature was removed.</summary>
    private static async Task<bool> WriteAsync(string packageDirectory, VerdictRule rule, CancellationToken cancellationToken)
    {
        string manifestPath = Path.Combine(packageDirectory, PackagePaths.ManifestFileName);
        byte[] manifest = await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false);
        await AtomicFile.WriteAsync(manifestPath, ManifestEditor.WithClassLimits(manifest, rule.Limits), cancellationToken).ConfigureAwait(false);
        string signaturePath = Path.Combine(packageDirectory, PackagePaths.SignatureFileName);
        bool signed = File.Exists(signaturePath);
        File.Delete(signaturePath);
        return signed;
    }

    private static T[] ParseList<T>(string? text, string option, Func<T, bool> allowed, string what, List<string> problems)
        where T : ISpanParsable<T>
    {
        List<T> values = [];
        foreach (string item in (text ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (T.TryParse(item, CultureInfo.InvariantCulture, out T? value) && allowed(value))
            {
                values.Add(value);
            }
            else
            {
                problems.Add($"{option}: \"{item}\" is not {what}");
            }
        }

        if (values.Count == 0 && problems.Count == 0)
        {
            problems.Add($"{option} \"{text}\" names no value; give a comma-separated list");
        }

        return [.. values];
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record TuneRequest(
        string Images, string Masks, double Recall, double FalseReject, double[] Thresholds, int[] MinAreas, int Top, int? Limit, bool Write, bool Json);
}
