using System.CommandLine;
using System.Globalization;
using EdgeModels.Cli.Evaluation;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Inference;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Vision.Postprocessing;
using EdgeRuntime.Vision.Preprocessing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models eval</c>: runs a labelled image set through the runtime's own loader, preprocessor, session and
/// postprocessor and scores the result: per-class IoU and Dice, any-defect Dice, image-level defect recall and
/// false-reject rate, instance recall, mean latency. Exit code 0 when the set was scored, 1 when an image or mask
/// cannot be used or the model is refused, 2 for a wrong command line.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        RuntimeModel.CommandOptions model = new();
        Option<string> imagesOption = new("--images") { Description = "Folder of images (PNG, JPEG, BMP), scored in name order.", Required = true };
        Option<string> masksOption = new("--masks")
        {
            Description = "Folder of truth masks: 8-bit PNGs of the same file names whose pixel values are class indices.",
            Required = true,
        };
        Option<bool> jsonOption = new("--json") { Description = "Print one JSON object instead of the table." };
        Option<int?> limitOption = new("--limit") { Description = "Score only the first N images (in name order)." };

        Command command = new("eval", "Score a model on labelled images, running them exactly as edge-runtime does.");
        model.AddTo(command);
        command.Options.Add(imagesOption);
        command.Options.Add(masksOption);
        command.Options.Add(jsonOption);
        command.Options.Add(limitOption);
        command.SetAction((parse, cancellationToken) =>
        {
            List<string> problems = [];
            int? limit = parse.GetValue(limitOption);
            if (limit is <= 0)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"--limit {limit} must be at least 1"));
            }

            RuntimeModelSettings? settings = model.Read(parse, new InferenceOptions().MaxBatch, problems);
            return RunAsync(
                settings,
                parse.GetRequiredValue(imagesOption),
                parse.GetRequiredValue(masksOption),
                limit,
                parse.GetValue(jsonOption),
                problems,
                parse.InvocationConfiguration.Output,
                parse.InvocationConfiguration.Error,
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        RuntimeModelSettings? settings,
        string images,
        string masks,
        int? limit,
        bool json,
        List<string> problems,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        (OnnxModelProvider? loaded, IReadOnlyList<LabelledImage> set, int exitCode) =
            await LabelledSetCommand.PrepareAsync("eval", settings, images, masks, limit, problems, error, cancellationToken).ConfigureAwait(false);
        using OnnxModelProvider? models = loaded;
        if (models is null)
        {
            return exitCode;
        }

        using var frames = new FramePool(4);
        var postprocessor = new SegmentationPostprocessor(Options.Create(new InspectionOptions()), NullLogger<SegmentationPostprocessor>.Instance);
        var evaluator = new SegmentationEvaluator(models, new FrameInspector(new ManifestPreprocessor(), postprocessor), frames, TimeProvider.System);
        var progress = new ProgressLine(error);
        EvaluationReport? report = await LabelledSetCommand.MeasureAsync(
            "eval", () => evaluator.Evaluate(set, progress.Report, cancellationToken), error, cancellationToken).ConfigureAwait(false);
        if (report is null)
        {
            return PackageConsole.ProblemsFound;
        }

        await output.WriteAsync(json ? EvaluationReportWriter.ToJson(report) + Environment.NewLine : EvaluationReportWriter.ToText(report))
            .ConfigureAwait(false);
        return PackageConsole.Success;
    }
}
