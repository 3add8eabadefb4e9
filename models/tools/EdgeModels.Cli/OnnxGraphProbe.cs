using EdgeRuntime.ModelPackages.Graph;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeModels.Cli;

/// <summary>
/// Reads a model's interface and runs it once, on ONNX Runtime's CPU provider. The only place edge-models' package
/// commands touch ONNX Runtime, so it can be swapped for the runtime's own engine (EdgeRuntime.Inference) later.
/// </summary>
/// <remarks>Owns an <see cref="InferenceSession"/>: the creator disposes it. Not thread-safe.</remarks>
internal sealed class OnnxGraphProbe : IDisposable
{
    private readonly InferenceSession _session;

    private OnnxGraphProbe(InferenceSession session)
    {
        _session = session;
    }

    /// <summary>Loads the model file.</summary>
    /// <exception cref="OnnxRuntimeException">The file is not a model ONNX Runtime can load.</exception>
    public static OnnxGraphProbe Load(string modelPath)
    {
        // The session copies what it needs from the options, which can go as soon as it exists.
        using SessionOptions options = new()
        {
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
        };
        return new OnnxGraphProbe(new InferenceSession(modelPath, options));
    }

    /// <summary>The graph's inputs and outputs, in graph order.</summary>
    public ModelGraphDescription Describe() =>
        new(Describe(_session.InputNames, _session.InputMetadata), Describe(_session.OutputNames, _session.OutputMetadata));

    /// <summary>Runs the model once on an all-zero float32 input and returns the shape of <paramref name="outputName"/>.</summary>
    /// <exception cref="OnnxRuntimeException">The model fails to run on that input.</exception>
    public long[] RunOnZeros(string inputName, long[] inputShape, string outputName)
    {
        long elements = 1;
        foreach (long dimension in inputShape)
        {
            elements *= dimension;
        }

        float[] zeros = new float[elements];
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(zeros, inputShape);
        using RunOptions runOptions = new();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, [inputName], [input], [outputName]);
        return outputs[0].GetTensorTypeAndShape().Shape;
    }

    public void Dispose() => _session.Dispose();

    private static List<GraphTensor> Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        List<GraphTensor> tensors = new(names.Count);
        foreach (string name in names)
        {
            NodeMetadata node = metadata[name];
            if (!node.IsTensor)
            {
                tensors.Add(new GraphTensor(name, $"non-tensor {node.OnnxValueType}", []));
                continue;
            }

            // ONNX Runtime reports a symbolic or unknown axis as -1.
            long?[] dimensions = node.Dimensions.Select(d => d < 0 ? (long?)null : d).ToArray();
            tensors.Add(new GraphTensor(name, ElementTypeName(node.ElementDataType), dimensions));
        }

        return tensors;
    }

    private static string ElementTypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => GraphTensor.Float32,
        TensorElementType.Double => "float64",
        _ => type.ToString().ToLowerInvariant(),
    };
}
