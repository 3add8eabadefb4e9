using System.Globalization;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.ModelPackages.Manifest;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeRuntime.Inference.Sessions;

/// <summary>One input or output of an ONNX graph as ONNX Runtime reports it; -1 marks a dynamic dimension.</summary>
internal sealed record GraphTensor(string Name, bool IsTensor, TensorElementType ElementType, int[] Dimensions)
{
    public string ShapeText => "[" + string.Join(",", Dimensions.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";
}

/// <summary>
/// The inputs and outputs of an ONNX graph, and the check that they are what the manifest promises: the names,
/// float32 elements, [N, C, H, W] (or [N, H, W, C]) input and [N, K, H, W] output. Every problem is reported, not the
/// first, so one round trip fixes a package.
/// </summary>
internal sealed class ModelGraph
{
    private ModelGraph(IReadOnlyList<GraphTensor> inputs, IReadOnlyList<GraphTensor> outputs)
    {
        Inputs = inputs;
        Outputs = outputs;
    }

    public IReadOnlyList<GraphTensor> Inputs { get; }

    public IReadOnlyList<GraphTensor> Outputs { get; }

    /// <summary>
    /// Reads the graph's signature with a CPU session that skips optimisation, which takes milliseconds: a
    /// mismatched model is refused before any provider spends minutes building an engine for it.
    /// </summary>
    /// <exception cref="ModelLoadException">ONNX Runtime cannot load the file.</exception>
    public static ModelGraph Read(byte[] model, string modelFile)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };
        try
        {
            using var session = new InferenceSession(model, options);
            return new ModelGraph(Describe(session.InputNames, session.InputMetadata), Describe(session.OutputNames, session.OutputMetadata));
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException(ModelLoadStage.Graph, [$"{modelFile} is not a model ONNX Runtime can load: {ex.Message}"], ex);
        }
    }

    /// <summary>For tests: a graph from its signature.</summary>
    internal static ModelGraph FromSignature(IReadOnlyList<GraphTensor> inputs, IReadOnlyList<GraphTensor> outputs) => new(inputs, outputs);

    /// <summary>Checks the graph against the manifest.</summary>
    /// <param name="manifest">The package manifest.</param>
    /// <param name="batch">The graph's fixed batch size, or null when the batch dimension is dynamic (or not known because of problems).</param>
    /// <returns>Every disagreement, each naming the tensor and the manifest key; empty when the model fits.</returns>
    public IReadOnlyList<string> Check(ModelManifest manifest, out int? batch)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var problems = new List<string>();
        batch = null;
        InputSpec spec = manifest.Input;

        if (Inputs.Count != 1)
        {
            problems.Add($"the model has {Inputs.Count} inputs ({Names(Inputs)}); the runtime feeds exactly one, the one named by input.name");
        }

        GraphTensor? input = Find(Inputs, spec.Name);
        if (input is null)
        {
            problems.Add($"input.name = \"{spec.Name}\": the model has no input of that name (its inputs: {Names(Inputs)})");
        }
        else
        {
            CheckTensor(input, "input", problems);
            int[] d = input.Dimensions;
            if (d.Length != 4)
            {
                problems.Add($"input \"{input.Name}\" has shape {input.ShapeText}; input.layout {Layout(spec.Layout)} needs 4 dimensions");
            }
            else
            {
                (int c, int h, int w) = spec.Layout == TensorLayout.Nhwc ? (d[3], d[1], d[2]) : (d[1], d[2], d[3]);
                CheckDimension(input, "C", c, spec.Channels, "input.channels", problems);
                CheckDimension(input, "H", h, spec.Height, "input.height", problems);
                CheckDimension(input, "W", w, spec.Width, "input.width", problems);
                batch = d[0] > 0 ? d[0] : null;
            }
        }

        GraphTensor? output = Find(Outputs, manifest.Output.Name);
        if (output is null)
        {
            problems.Add($"output.name = \"{manifest.Output.Name}\": the model has no output of that name (its outputs: {Names(Outputs)})");
        }
        else
        {
            CheckTensor(output, "output", problems);
            int[] d = output.Dimensions;
            if (d.Length != 4)
            {
                problems.Add($"output \"{output.Name}\" has shape {output.ShapeText}; a segmentation output is [N, K, H, W]");
            }
            else
            {
                CheckDimension(output, "K", d[1], manifest.ClassCount, "the number of classes", problems);
                CheckDimension(output, "H", d[2], spec.Height, "input.height (the mask has the input's size)", problems);
                CheckDimension(output, "W", d[3], spec.Width, "input.width (the mask has the input's size)", problems);
                if (input is { Dimensions.Length: 4 } && d[0] != input.Dimensions[0] && d[0] > 0)
                {
                    problems.Add($"output \"{output.Name}\" has batch {d[0]} but input \"{input.Name}\" has batch {Dimension(input.Dimensions[0])}; they must agree");
                }
            }
        }

        if (problems.Count > 0)
        {
            batch = null;
        }

        return problems;
    }

    private static void CheckTensor(GraphTensor tensor, string role, List<string> problems)
    {
        if (!tensor.IsTensor)
        {
            problems.Add($"{role} \"{tensor.Name}\" is not a tensor");
        }
        else if (tensor.ElementType != TensorElementType.Float)
        {
            // fp16 and int8 models keep float32 I/O (the manifest schema); the buffers are float32.
            problems.Add($"{role} \"{tensor.Name}\" has element type {tensor.ElementType}; the runtime feeds and reads float32 (fp16 and int8 models keep float32 inputs and outputs)");
        }
    }

    private static void CheckDimension(GraphTensor tensor, string axis, int actual, int expected, string manifestKey, List<string> problems)
    {
        // A dynamic dimension takes whatever the manifest says.
        if (actual > 0 && actual != expected)
        {
            problems.Add($"\"{tensor.Name}\" has {axis} = {actual} (shape {tensor.ShapeText}) but {manifestKey} is {expected}");
        }
    }

    private static GraphTensor? Find(IReadOnlyList<GraphTensor> tensors, string name)
    {
        foreach (GraphTensor tensor in tensors)
        {
            if (string.Equals(tensor.Name, name, StringComparison.Ordinal))
            {
                return tensor;
            }
        }

        return null;
    }

    private static string Names(IReadOnlyList<GraphTensor> tensors) => tensors.Count == 0 ? "none" : string.Join(", ", tensors.Select(t => t.Name));

    private static string Dimension(int value) => value < 0 ? "dynamic" : value.ToString(CultureInfo.InvariantCulture);

    private static string Layout(TensorLayout layout) => layout == TensorLayout.Nhwc ? "NHWC" : "NCHW";

    private static GraphTensor[] Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        var tensors = new GraphTensor[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            NodeMetadata node = metadata[names[i]];
            tensors[i] = node.IsTensor
                ? new GraphTensor(names[i], true, node.ElementDataType, node.Dimensions)
                : new GraphTensor(names[i], false, TensorElementType.DataTypeMax, []);
        }

        return tensors;
    }
}
