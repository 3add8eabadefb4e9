using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeModels.Onnx;
using EdgeModels.Onnx.Inspection;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models inspect</c>: a model's inputs and outputs, opsets, operator counts, parameter count and an
/// estimate of its compute (Conv, ConvTranspose, MatMul and Gemm MACs, FLOPs = 2 x MACs), as text or JSON.
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        Argument<FileInfo> modelArgument = new("MODEL") { Description = "The .onnx file." };
        Option<bool> jsonOption = new("--json") { Description = "Print the report as JSON on stdout." };
        Option<string?> shapeOption = new("--input-shape")
        {
            Description = "Shape to assume for the (first) input when counting FLOPs, e.g. 1,3,512,512; fills symbolic dimensions. " +
                          "Default: the declared shape, batch 1 where the batch is symbolic.",
        };

        Command command = new("inspect", "Show a model's I/O, opsets, operators, parameters and estimated FLOPs.")
        {
            modelArgument, jsonOption, shapeOption,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(modelArgument),
            parse.GetValue(jsonOption),
            parse.GetValue(shapeOption),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo modelFile, bool json, string? shapeText, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        long[]? shape = null;
        if (shapeText is not null && (shape = ModelCommandSupport.ParseShape(shapeText)) is null)
        {
            await error.WriteLineAsync($"--input-shape '{shapeText}' is not a comma-separated list of positive integers (e.g. 1,3,256,256).").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        if (await ModelCommandSupport.TryLoadAsync(modelFile, error).ConfigureAwait(false) is not { } model)
        {
            return modelFile.Exists ? PackageConsole.ProblemsFound : PackageConsole.UsageError;
        }

        ModelReport report;
        try
        {
            report = ModelInspector.Inspect(model, shape);
        }
        catch (OnnxModelException ex)
        {
            await error.WriteLineAsync($"{modelFile.Name}: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.ProblemsFound;
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(report, InspectJsonContext.Default.ModelReport)).ConfigureAwait(false);
        }
        else
        {
            await output.WriteAsync(Format(modelFile.Name, report)).ConfigureAwait(false);
        }

        return PackageConsole.Success;
    }

    private static string Format(string name, ModelReport report)
    {
        CultureInfo invariant = CultureInfo.InvariantCulture;
        System.Text.StringBuilder text = new();
        text.AppendLine(name);
        text.AppendLine(invariant, $"  producer    {(report.Producer.Length == 0 ? "(not recorded)" : report.Producer)}; IR version {report.IrVersion}");
        text.AppendLine(invariant, $"  opsets      {string.Join(", ", report.Opsets.Select(o => $"{o.Domain} {o.Version}"))}");
        foreach (TensorSummary input in report.Inputs)
        {
            text.AppendLine(invariant, $"  input       {input.Name}  {input.ElementType} [{string.Join(", ", input.Dims)}]");
        }

        foreach (TensorSummary output in report.Outputs)
        {
            text.AppendLine(invariant, $"  output      {output.Name}  {output.ElementType} [{string.Join(", ", output.Dims)}]");
        }

        text.AppendLine(invariant, $"  nodes       {report.NodeCount}: {string.Join(", ", report.Operators.Select(o => $"{o.OpType} {o.Count}"))}");
        text.AppendLine(invariant, $"  parameters  {report.ParameterCount:N0} ({report.ParameterBytes / (1024.0 * 1024.0):F2} MiB)");
        ComputeEstimate compute = report.Compute;
        string shapes = string.Join("; ", compute.InputShapes.Select(pair => $"{pair.Key} [{string.Join(",", pair.Value)}]"));
        text.AppendLine(invariant, $"  compute     {compute.Macs / 1e9:F3} GMACs = {compute.Flops / 1e9:F3} GFLOPs{(compute.IsComplete ? string.Empty : " (lower bound)")} at {(shapes.Length == 0 ? "no known input shape" : shapes)}");
        foreach (string assumption in compute.Assumptions)
        {
            text.AppendLine(invariant, $"              note: {assumption}");
        }

        if (!compute.IsComplete)
        {
            text.AppendLine(invariant, $"              not counted (shape unknown): {string.Join(", ", compute.UncountedNodes)}");
        }

        return text.ToString();
    }
}

/// <summary>JSON shape of <c>inspect --json</c>: camelCase properties, indented.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ModelReport))]
internal sealed partial class InspectJsonContext : JsonSerializerContext;
