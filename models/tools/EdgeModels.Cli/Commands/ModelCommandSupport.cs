using System.Globalization;
using EdgeModels.Onnx;
using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;
using EdgeModels.Onnx.Verification;
using Microsoft.ML.OnnxRuntime;

namespace EdgeModels.Cli.Commands;

/// <summary>Argument parsing and the ONNX Runtime check shared by the inspect, fp16 and quantize commands.</summary>
internal static class ModelCommandSupport
{
    /// <summary>Parses "1,3,256,256"; null when <paramref name="text"/> is not a list of positive integers.</summary>
    public static long[]? ParseShape(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        long[] shape = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] <= 0)
            {
                return null;
            }
        }

        return shape;
    }

    /// <summary>Splits "Softmax,Resize" (repeated options are joined first); empty entries are dropped.</summary>
    public static IReadOnlyList<string> ParseNames(IEnumerable<string>? values) =>
        values is null ? [] : [.. values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))];

    /// <summary>Loads a model, printing why it cannot be loaded; null on failure.</summary>
    public static async Task<ModelProto?> TryLoadAsync(FileInfo file, TextWriter error)
    {
        if (!file.Exists)
        {
            await error.WriteLineAsync($"{file.FullName} does not exist.").ConfigureAwait(false);
            return null;
        }

        try
        {
            return OnnxModelFile.Load(file.FullName);
        }
        catch (OnnxModelException ex)
        {
            await error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// Loads <paramref name="converted"/> in ONNX Runtime's CPU provider, runs it and <paramref name="original"/> on
    /// <paramref name="input"/> (a seeded normal sample when null) and prints how far apart their first outputs are.
    /// Returns false, having printed why, when ONNX Runtime cannot run the converted model.
    /// </summary>
    public static async Task<bool> VerifyAsync(ModelProto original, ModelProto converted, float[]? input, long[]? shape, TextWriter output, TextWriter error)
    {
        shape ??= ModelComparison.ConcreteInputShape(original);
        if (shape is null)
        {
            await output.WriteLineAsync("check: skipped (the input has symbolic dimensions other than the batch)").ConfigureAwait(false);
            return true;
        }

        input ??= SeededNormal((int)TensorData.ElementCount(shape));
        try
        {
            OutputDifference difference = ModelComparison.Compare(original, converted, input, shape);
            string argmax = difference.ArgmaxAgreement is { } agreement
                ? string.Create(CultureInfo.InvariantCulture, $", class argmax agrees at {agreement * 100:F2}% of pixels")
                : string.Empty;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"check: runs in ONNX Runtime (CPU); '{difference.OutputName}' vs the original on one input [{string.Join(",", shape)}]: " +
                $"max |diff| {difference.MaxAbsolute:G4}, mean |diff| {difference.MeanAbsolute:G4}{argmax}")).ConfigureAwait(false);
            return true;
        }
        catch (OnnxRuntimeException ex)
        {
            await error.WriteLineAsync($"ONNX Runtime (CPU) cannot run the converted model: {ex.Message}").ConfigureAwait(false);
            return false;
        }
    }

    private static float[] SeededNormal(int count)
    {
        // Normalized image inputs are roughly standard normal; a fixed seed keeps the printed check reproducible.
        Random random = new(20_240_601);
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        return values;
    }
}
