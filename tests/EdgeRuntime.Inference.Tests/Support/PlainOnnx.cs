using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>The reference: ONNX Runtime's own API, used the plain way, on the same model and input.</summary>
internal static class PlainOnnx
{
    public static float[] Run(string modelPath, ReadOnlySpan<float> input, int items)
    {
        using var session = new InferenceSession(modelPath);
        float[] data = input[..(items * TestModels.ItemElements)].ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, [items, TestModels.Channels, TestModels.Size, TestModels.Size]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, ["input"], [value], ["logits"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (MathF.Abs(expected[i] - actual[i]) > tolerance)
            {
                Assert.Fail($"element {i}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }

    public static bool Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance = 1e-4f)
    {
        if (expected.Length != actual.Length)
        {
            return false;
        }

        for (int i = 0; i < expected.Length; i++)
        {
            if (MathF.Abs(expected[i] - actual[i]) > tolerance)
            {
                return false;
            }
        }

        return true;
    }
}
