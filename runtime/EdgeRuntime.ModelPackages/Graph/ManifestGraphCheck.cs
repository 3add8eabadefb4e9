using System.Globalization;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.ModelPackages.Graph;

/// <summary>
/// Checks that a model graph is the one its manifest describes: tensor names, element types, ranks and every fixed
/// dimension (channels, height, width, K = number of classes). Engines call it when they load a model; the
/// edge-models validate command calls it before running the model once.
/// </summary>
public static class ManifestGraphCheck
{
    /// <summary>The shape of one input tensor at the manifest's size and layout.</summary>
    public static long[] InputShape(ModelManifest manifest, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        InputSpec input = manifest.Input;
        return input.Layout == TensorLayout.Nchw
            ? [batchSize, input.Channels, input.Height, input.Width]
            : [batchSize, input.Height, input.Width, input.Channels];
    }

    /// <summary>The shape the output must have for one input of <see cref="InputShape"/>: [N, K, H, W].</summary>
    public static long[] OutputShape(ModelManifest manifest, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return [batchSize, manifest.ClassCount, manifest.Input.Height, manifest.Input.Width];
    }

    /// <summary>Every disagreement between the manifest and the graph's declared interface; empty when they agree.</summary>
    public static IReadOnlyList<PackageProblem> Check(ModelManifest manifest, ModelGraphDescription graph)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(graph);

        List<PackageProblem> problems = [];
        InputSpec input = manifest.Input;
        GraphTensor? graphInput = Find(graph.Inputs, input.Name, "input.name", "input", problems);
        foreach (GraphTensor other in graph.Inputs)
        {
            if (!string.Equals(other.Name, input.Name, StringComparison.Ordinal))
            {
                Add(problems, $"the graph has a further input '{other.Name}'; the runtime feeds exactly one input, '{input.Name}'");
            }
        }

        if (graphInput is not null)
        {
            string[] axes = input.Layout == TensorLayout.Nchw
                ? ["batch", "channels", "height", "width"]
                : ["batch", "height", "width", "channels"];
            long[] expected = InputShape(manifest, 1);
            string[] sources = input.Layout == TensorLayout.Nchw
                ? ["", $"input.channels = {input.Channels}", $"input.height = {input.Height}", $"input.width = {input.Width}"]
                : ["", $"input.height = {input.Height}", $"input.width = {input.Width}", $"input.channels = {input.Channels}"];
            CheckTensor(graphInput, "input", axes, expected, sources, $"input.layout {SchemaSpelling.Of(input.Layout, ManifestJsonContext.Default.TensorLayout)}", problems);
        }

        OutputSpec output = manifest.Output;
        GraphTensor? graphOutput = Find(graph.Outputs, output.Name, "output.name", "output", problems);
        if (graphOutput is not null)
        {
            string[] axes = ["batch", "classes (K)", "height", "width"];
            long[] expected = OutputShape(manifest, 1);
            string[] sources = ["", $"the manifest lists {manifest.ClassCount} classes", $"input.height = {input.Height}", $"input.width = {input.Width}"];
            CheckTensor(graphOutput, "output", axes, expected, sources, "[N, K, H, W]", problems);
        }

        return problems;
    }

    /// <summary>Checks the shape an engine actually produced for one input of <see cref="InputShape"/> (batch 1).</summary>
    public static IReadOnlyList<PackageProblem> CheckOutputShape(ModelManifest manifest, ReadOnlySpan<long> actualShape)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        long[] expected = OutputShape(manifest, 1);
        if (actualShape.SequenceEqual(expected))
        {
            return [];
        }

        return
        [
            new PackageProblem(PackageProblemKind.GraphMismatch,
                $"running the model on a zero input of shape {Format(InputShape(manifest, 1))} produced output '{manifest.Output.Name}' of shape {Format(actualShape)}; the manifest implies {Format(expected)} ([N, K, H, W])"),
        ];
    }

    private static void CheckTensor(
        GraphTensor tensor, string role, string[] axes, long[] expected, string[] sources, string layout, List<PackageProblem> problems)
    {
        if (!string.Equals(tensor.ElementType, GraphTensor.Float32, StringComparison.Ordinal))
        {
            string hint = tensor.ElementType == "float16" ? " (fp16 models keep float32 inputs and outputs: convert with keep_io_types)" : string.Empty;
            Add(problems, $"{role} '{tensor.Name}' is {tensor.ElementType} in the graph; the runtime exchanges {GraphTensor.Float32}{hint}");
        }

        if (tensor.Dimensions.Count != expected.Length)
        {
            Add(problems, $"{role} '{tensor.Name}' has rank {tensor.Dimensions.Count} ({FormatDims(tensor.Dimensions)}); the manifest implies rank {expected.Length}, {layout}");
            return;
        }

        for (int axis = 0; axis < expected.Length; axis++)
        {
            if (tensor.Dimensions[axis] is not { } actual)
            {
                continue;
            }

            if (axis == 0)
            {
                if (actual != 1)
                {
                    Add(problems, $"{role} '{tensor.Name}' has a fixed batch dimension of {actual}; export it with batch 1 or a dynamic batch axis");
                }
            }
            else if (actual != expected[axis])
            {
                Add(problems, $"{role} '{tensor.Name}' dimension {axis} ({axes[axis]}) is {actual} in the graph ({FormatDims(tensor.Dimensions)}); {sources[axis]}");
            }
        }
    }

    private static GraphTensor? Find(IReadOnlyList<GraphTensor> tensors, string name, string manifestKey, string role, List<PackageProblem> problems)
    {
        foreach (GraphTensor tensor in tensors)
        {
            if (string.Equals(tensor.Name, name, StringComparison.Ordinal))
            {
                return tensor;
            }
        }

        string available = tensors.Count == 0 ? "none" : string.Join(", ", tensors.Select(t => $"'{t.Name}'"));
        Add(problems, $"{manifestKey} = \"{name}\" is not an {role} of the graph (graph {role}s: {available})");
        return null;
    }

    private static void Add(List<PackageProblem> problems, string message) => problems.Add(new PackageProblem(PackageProblemKind.GraphMismatch, message));

    private static string Format(ReadOnlySpan<long> shape)
    {
        string[] parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        }

        return $"[{string.Join(", ", parts)}]";
    }

    private static string FormatDims(IReadOnlyList<long?> dimensions) =>
        $"[{string.Join(", ", dimensions.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "?"))}]";
}
