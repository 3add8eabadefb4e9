using EdgeModels.Cli.Commands;
using EdgeRuntime.Inference.Models;
using Microsoft.ML.OnnxRuntime;

namespace EdgeModels.Cli.Evaluation;

/// <summary>
/// The steps eval and tune share around their measurement: report command-line problems, pair the images with their
/// masks, load the package as edge-runtime does, run the CPU-bound measurement off the caller's thread, and turn an
/// unusable file or a failing model into a message and an exit code. Every message starts with the command's name.
/// </summary>
internal static class LabelledSetCommand
{
    /// <summary>
    /// The loaded model (the caller disposes it) and the labelled set; or a null model and the exit code after
    /// printing why: <see cref="PackageConsole.UsageError"/> for <paramref name="problems"/> already found on the
    /// command line, <see cref="PackageConsole.ProblemsFound"/> for folders without a usable set or a refused package.
    /// </summary>
    public static async Task<(OnnxModelProvider? Models, IReadOnlyList<LabelledImage> Set, int ExitCode)> PrepareAsync(
        string command,
        RuntimeModelSettings? settings,
        string images,
        string masks,
        int? limit,
        List<string> problems,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(problems);
        ArgumentNullException.ThrowIfNull(error);
        if (settings is null || problems.Count > 0)
        {
            await PrintAsync(command, error, problems).ConfigureAwait(false);
            return (null, [], PackageConsole.UsageError);
        }

        IReadOnlyList<LabelledImage> set = EvaluationSet.Find(images, masks, limit, problems);
        if (problems.Count > 0)
        {
            await PrintAsync(command, error, problems).ConfigureAwait(false);
            return (null, [], PackageConsole.ProblemsFound);
        }

        OnnxModelProvider? models = await RuntimeModel.LoadAsync(settings, error, cancellationToken).ConfigureAwait(false);
        if (models is null)
        {
            return (null, [], PackageConsole.ProblemsFound);
        }

        await error.WriteLineAsync($"{command}: {models.Active!.Identity.Id} {models.Active.Identity.Version} on {models.Active.Providers}, {set.Count} images")
            .ConfigureAwait(false);
        return (models, set, PackageConsole.Success);
    }

    /// <summary>
    /// Runs <paramref name="measure"/> on the thread pool (it is CPU-bound and synchronous; off the caller's thread a
    /// console's Ctrl+C is seen). Returns its result, or null after printing why an image, a mask or the model failed.
    /// </summary>
    public static async Task<T?> MeasureAsync<T>(string command, Func<T> measure, TextWriter error, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            return await Task.Run(measure, cancellationToken).ConfigureAwait(false);
        }
        catch (EvaluationInputException ex)
        {
            await error.WriteLineAsync($"{command}: {ex.Message}").ConfigureAwait(false);
        }
        catch (OnnxRuntimeException ex)
        {
            await error.WriteLineAsync($"{command}: ONNX Runtime failed to run the model: {ex.Message}").ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>Prints each problem on its own line.</summary>
    public static async Task PrintAsync(string command, TextWriter error, IEnumerable<string> problems)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(problems);
        foreach (string problem in problems)
        {
            await error.WriteLineAsync($"{command}: {problem}").ConfigureAwait(false);
        }
    }
}
