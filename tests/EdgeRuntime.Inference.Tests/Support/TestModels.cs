namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>
/// The tiny UNet-shaped ONNX models in TestData (made by TestData/make_test_models.py): 3x64x64 float32 input named
/// "input", 3-class logits named "logits".
/// </summary>
internal static class TestModels
{
    public const int Size = 64;
    public const int Channels = 3;
    public const int Classes = 3;
    public const int ItemElements = Channels * Size * Size;

    /// <summary>Dynamic batch, seed 1.</summary>
    public static string Dynamic => Path.Combine(AppContext.BaseDirectory, "TestData", "tiny-unet.onnx");

    /// <summary>Dynamic batch, seed 2: same graph, different weights, so its output tells it apart.</summary>
    public static string Retrained => Path.Combine(AppContext.BaseDirectory, "TestData", "tiny-unet-retrained.onnx");

    /// <summary>Batch fixed to 4, seed 1.</summary>
    public static string Batch4 => Path.Combine(AppContext.BaseDirectory, "TestData", "tiny-unet-batch4.onnx");

    /// <summary>
    /// tests/EdgeModels.Tests/TestData/colour-segmenter.onnx: 32x32, pointwise, so its answer is known for every pixel under
    /// the test manifest's normalisation: pure red is class 1 (linear), pure blue class 2 (blob), mid grey good.
    /// </summary>
    public static string Colour => Path.Combine(AppContext.BaseDirectory, "TestData", "colour-segmenter.onnx");

    /// <summary>Deterministic pseudo-random input in roughly the normalised range.</summary>
    public static float[] RandomInput(int items, int seed)
    {
        var random = new Random(seed);
        var data = new float[items * ItemElements];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(random.NextDouble() * 4 - 2);
        }

        return data;
    }
}
