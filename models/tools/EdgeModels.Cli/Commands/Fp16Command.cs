using System.CommandLine;
using EdgeModels.Onnx;
using EdgeModels.Onnx.Conversion;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models fp16</c>: converts a float32 model to float16 weights and arithmetic, keeping float32 graph inputs
/// and outputs and numerically sensitive operators (see <see cref="Float16ConversionOptions.DefaultKeepFloat32Ops"/>),
/// then checks the result in ONNX Runtime's CPU provider.
/// </summary>
internal static class Fp16Command
{
    public static Command Create()
    {
        Argument<FileInfo> inputArgument = new("IN") { Description = "The float32 .onnx model." };
        Argument<FileInfo> outputArgument = new("OUT") { Description = "Where to write the float16 model (replaced if it exists)." };
        Option<string[]> keepOpsOption = new("--keep-fp32-ops")
        {
            Description = "Operator types that stay float32, comma-separated; replaces the default list " +
                          $"({string.Join(",", Float16ConversionOptions.DefaultKeepFloat32Ops)}). Pass \"\" to convert everything possible.",
            AllowMultipleArgumentsPerToken = true,
        };
        Option<string[]> keepNodesOption = new("--keep-fp32-nodes")
        {
            Description = "Node names that stay float32, comma-separated.",
            AllowMultipleArgumentsPerToken = true,
        };

        Command command = new("fp16", "Convert a float32 model to float16 (float32 I/O; sensitive operators kept in float32 behind Casts).")
        {
            inputArgument, outputArgument, keepOpsOption, keepNodesOption,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            Float16ConversionOptions options = new()
            {
                KeepFloat32Ops = parse.GetResult(keepOpsOption) is null
                    ? Float16ConversionOptions.DefaultKeepFloat32Ops
                    : [.. ModelCommandSupport.ParseNames(parse.GetValue(keepOpsOption))],
                KeepFloat32Nodes = [.. ModelCommandSupport.ParseNames(parse.GetValue(keepNodesOption))],
            };
            return RunAsync(
                parse.GetRequiredValue(inputArgument),
                parse.GetRequiredValue(outputArgument),
                options,
                parse.InvocationConfiguration.Output,
                parse.InvocationConfiguration.Error,
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(FileInfo input, FileInfo output, Float16ConversionOptions options, TextWriter stdout, TextWriter error, CancellationToken cancellationToken)
    {
        if (await ModelCommandSupport.TryLoadAsync(input, error).ConfigureAwait(false) is not { } model)
        {
            return input.Exists ? PackageConsole.ProblemsFound : PackageConsole.UsageError;
        }

        Float16ConversionResult result;
        try
        {
            result = Float16Converter.Convert(model, options);
        }
        catch (OnnxModelException ex)
        {
            await error.WriteLineAsync($"{input.Name}: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.ProblemsFound;
        }

        cancellationToken.ThrowIfCancellationRequested();
        OnnxModelFile.Save(result.Model, output.FullName);
        string kept = result.KeptFloat32.Count == 0
            ? "none"
            : string.Join(", ", result.KeptFloat32.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key} {pair.Value}"));
        await stdout.WriteLineAsync(
            $"{output.Name}: {result.ConvertedNodes} nodes and {result.ConvertedInitializers} initializers in float16; " +
            $"kept in float32: {kept}; {result.CastsInserted} Casts inserted; " +
            $"{input.Length / (1024.0 * 1024.0):F2} MiB -> {new FileInfo(output.FullName).Length / (1024.0 * 1024.0):F2} MiB").ConfigureAwait(false);
        if (result.ClampedValues > 0)
        {
            await error.WriteLineAsync($"warning: {result.ClampedValues} weight values exceeded float16's range (±65504) and were clamped.").ConfigureAwait(false);
        }

        return await ModelCommandSupport.VerifyAsync(model, result.Model, null, null, stdout, error).ConfigureAwait(false)
            ? PackageConsole.Success
            : PackageConsole.ProblemsFound;
    }
}
