using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;
using Microsoft.ML.OnnxRuntime;

namespace EdgeModels.Onnx.Verification;

/// <summary>How far a converted model's first output is from the original's on one input.</summary>
/// <remarks>
/// <see cref="ArgmaxAgreement"/> is the share (0..1) of positions where the largest value along dimension 1 (the
/// class dimension of an [N, K, H, W] segmentation output) is at the same index in both; null for outputs of rank
/// below 2.
/// </remarks>
public sealed record OutputDifference(string OutputName, double MaxAbsolute, double MeanAbsolute, double? ArgmaxAgreement);

/// <summary>Runs models in ONNX Runtime's CPU provider to check a conversion end to end.</summary>
/// <remarks>Each call creates and disposes its own sessions; thread-safe.</remarks>
public static class ModelComparison
{
    /// <summary>
    /// The declared shape of the model's single fed input with a symbolic first (batch) dimension set to 1; null
    /// when there is not exactly one fed input or another dimension is symbolic.
    /// </summary>
    public static long[]? ConcreteInputShape(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        List<ValueInfoProto> inputs = [.. new GraphIndex(model.Graph).FedInputs];
        if (inputs.Count != 1 || inputs[0].Type?.TensorType?.Shape is not { } shape)
        {
            return null;
        }

        long[] dims = new long[shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            long value = shape.Dim[i].HasDimValue ? shape.Dim[i].DimValue : 0;
            dims[i] = value > 0 ? value : i == 0 ? 1 : 0;
            if (dims[i] == 0)
            {
                return null;
            }
        }

        return dims;
    }

    /// <summary>Runs <paramref name="model"/> on one float32 input and returns its first output and that output's shape.</summary>
    /// <exception cref="OnnxModelException">The model does not have exactly one fed input.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load or run the model.</exception>
    public static (float[] Values, long[] Shape) Run(ModelProto model, float[] input, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(shape);
        List<ValueInfoProto> inputs = [.. new GraphIndex(model.Graph).FedInputs];
        if (inputs.Count != 1)
        {
            throw new OnnxModelException($"the model has {inputs.Count} inputs; comparison feeds exactly one.");
        }

        using SessionOptions options = new() { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using InferenceSession session = new(OnnxModelFile.ToBytes(model), options);
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using RunOptions runOptions = new();
        string output = model.Graph.Output[0].Name;
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, [inputs[0].Name], [value], [output]);
        OrtValue result = outputs[0];
        return (result.GetTensorDataAsSpan<float>().ToArray(), result.GetTensorTypeAndShape().Shape);
    }

    /// <summary>Runs both models on <paramref name="input"/> and measures the difference of their first outputs.</summary>
    /// <exception cref="OnnxModelException">The outputs differ in shape, or a model does not have exactly one fed input.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load or run a model.</exception>
    public static OutputDifference Compare(ModelProto reference, ModelProto candidate, float[] input, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);
        (float[] expected, long[] expectedShape) = Run(reference, input, shape);
        (float[] actual, long[] actualShape) = Run(candidate, input, shape);
        if (!expectedShape.AsSpan().SequenceEqual(actualShape))
        {
            throw new OnnxModelException(
                $"output shapes differ: [{string.Join(",", expectedShape)}] against [{string.Join(",", actualShape)}].");
        }

        return Difference(reference.Graph.Output[0].Name, expected, actual, expectedShape);
    }

    /// <summary>The difference between two outputs of the same shape.</summary>
    public static OutputDifference Difference(string outputName, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (expected.Length != actual.Length)
        {
            throw new ArgumentException($"{expected.Length} expected values against {actual.Length} actual ones.", nameof(actual));
        }

        double max = 0;
        double sum = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs((double)expected[i] - actual[i]);
            max = Math.Max(max, difference);
            sum += difference;
        }

        return new OutputDifference(outputName, max, expected.Length == 0 ? 0 : sum / expected.Length, ArgmaxAgreement(expected, actual, shape));
    }

    private static double? ArgmaxAgreement(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, IReadOnlyList<long> shape)
    {
        if (shape.Count < 2 || shape[1] < 2)
        {
            return null;
        }

        int classes = (int)shape[1];
        int inner = (int)TensorData.ElementCount(shape.Skip(2));
        int batch = (int)shape[0];
        int agree = 0;
        for (int n = 0; n < batch; n++)
        {
            int offset = n * classes * inner;
            for (int p = 0; p < inner; p++)
            {
                if (Argmax(expected, offset + p, classes, inner) == Argmax(actual, offset + p, classes, inner))
                {
                    agree++;
                }
            }
        }

        int positions = batch * inner;
        return positions == 0 ? null : (double)agree / positions;
    }

    private static int Argmax(ReadOnlySpan<float> values, int start, int count, int stride)
    {
        int best = 0;
        for (int c = 1; c < count; c++)
        {
            if (values[start + (c * stride)] > values[start + (best * stride)])
            {
                best = c;
            }
        }

        return best;
    }
}
