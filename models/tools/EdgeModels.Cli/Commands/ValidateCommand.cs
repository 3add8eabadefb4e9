using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using EdgeRuntime.ModelPackages;
using EdgeRuntime.ModelPackages.Graph;
using EdgeRuntime.ModelPackages.Manifest;
using Microsoft.ML.OnnxRuntime;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models validate</c>: every manifest rule, the package files (model hash, golden samples), then the model
/// itself: loaded in ONNX Runtime, its inputs and outputs compared with the manifest, and run once on zeros at the
/// manifest's input size. All problems are listed together; exit code 1 if there is any.
/// </summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        Argument<string> pathArgument = new("MANIFEST|DIR") { Description = "A manifest.json, or the package folder holding one." };

        Command command = new("validate", "Validate a manifest and check the ONNX model against it (names, types, shapes, one zero-input run).")
        {
            pathArgument,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(pathArgument),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string path, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        string manifestPath = Directory.Exists(path) ? Path.Combine(path, PackagePaths.ManifestFileName) : path;
        if (!File.Exists(manifestPath))
        {
            await error.WriteLineAsync($"{manifestPath} does not exist.").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        try
        {
            ManifestLoadResult loaded = await ModelManifest.LoadAsync(manifestPath, cancellationToken).ConfigureAwait(false);
            if (!loaded.IsValid)
            {
                await error.WriteLineAsync("the model graph was not checked: it is compared with a valid manifest only").ConfigureAwait(false);
                return await PackageConsole.ReportAsync(error, manifestPath, loaded.Problems.Select(PackageProblem.FromManifest).ToList())
                    .ConfigureAwait(false);
            }

            ModelManifest manifest = loaded.Manifest;
            List<PackageProblem> problems = [];
            if (string.Equals(Path.GetFileName(manifestPath), PackagePaths.ManifestFileName, StringComparison.Ordinal))
            {
                PackageLoadResult package = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, cancellationToken)
                    .ConfigureAwait(false);
                problems.AddRange(package.Problems);
            }
            else
            {
                await error.WriteLineAsync($"note: {manifestPath} is not a package's {PackagePaths.ManifestFileName}; model hash and golden files not checked")
                    .ConfigureAwait(false);
            }

            string modelPath = Path.Combine(folder, manifest.Model.File);
            if (File.Exists(modelPath))
            {
                problems.AddRange(await CheckGraphAsync(manifest, modelPath, output).ConfigureAwait(false));
            }
            else if (problems.Count == 0)
            {
                problems.Add(new PackageProblem(PackageProblemKind.ModelFileMissing, $"{manifest.Model.File} (model.file) is not in {folder}"));
            }

            if (problems.Count > 0)
            {
                return await PackageConsole.ReportAsync(error, manifestPath, problems).ConfigureAwait(false);
            }

            await output.WriteLineAsync($"OK {manifest.Id} {manifest.Version}: manifest, package files and model graph agree").ConfigureAwait(false);
            return PackageConsole.Success;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"Cannot validate {path}: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }
    }

    private static async Task<IReadOnlyList<PackageProblem>> CheckGraphAsync(ModelManifest manifest, string modelPath, TextWriter output)
    {
        OnnxGraphProbe probe;
        try
        {
            probe = OnnxGraphProbe.Load(modelPath);
        }
        catch (OnnxRuntimeException ex)
        {
            return [new PackageProblem(PackageProblemKind.GraphMismatch, $"{manifest.Model.File} cannot be loaded by ONNX Runtime: {OneLine(ex.Message)}")];
        }

        using (probe)
        {
            ModelGraphDescription graph = probe.Describe();
            foreach (GraphTensor tensor in graph.Inputs.Concat(graph.Outputs))
            {
                string role = graph.Inputs.Contains(tensor) ? "input " : "output";
                await output.WriteLineAsync($"graph {role} '{tensor.Name}' {tensor.ElementType} {Format(tensor.Dimensions)}").ConfigureAwait(false);
            }

            List<PackageProblem> problems = [.. ManifestGraphCheck.Check(manifest, graph)];
            bool runnable = graph.Inputs.Any(t => t.Name == manifest.Input.Name) && graph.Outputs.Any(t => t.Name == manifest.Output.Name);
            if (!runnable)
            {
                return problems;
            }

            long[] inputShape = ManifestGraphCheck.InputShape(manifest, 1);
            try
            {
                long started = Stopwatch.GetTimestamp();
                long[] outputShape = probe.RunOnZeros(manifest.Input.Name, inputShape, manifest.Output.Name);
                await output.WriteLineAsync(
                    $"zero-input run: {Format(inputShape)} -> {Format(outputShape)} in {Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)} ms (CPU)")
                    .ConfigureAwait(false);
                problems.AddRange(ManifestGraphCheck.CheckOutputShape(manifest, outputShape));
            }
            catch (OnnxRuntimeException ex)
            {
                problems.Add(new PackageProblem(PackageProblemKind.GraphMismatch,
                    $"running {manifest.Model.File} on a zero input of shape {Format(inputShape)} failed: {OneLine(ex.Message)}"));
            }

            return problems;
        }
    }

    // ONNX Runtime's messages span lines; one problem is one line.
    private static string OneLine(string message) =>
        string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Format(IEnumerable<long> shape) => $"[{string.Join(", ", shape)}]";

    private static string Format(IReadOnlyList<long?> dimensions) => $"[{string.Join(", ", dimensions.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "?"))}]";
}
