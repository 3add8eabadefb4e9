using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeModels.Cli.Calibration;
using EdgeModels.Cli.Commands;
using EdgeModels.Onnx;
using EdgeModels.Onnx.Conversion;
using EdgeModels.Onnx.Protos;
using EdgeModels.Onnx.Verification;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeModels.Tests.Onnx;

/// <summary>The repository's trained, pruned sample model converted with the real commands and sample images.</summary>
public sealed class SamplePackageConversionTests : IDisposable
{
    private const int CalibrationImages = 4;

    private readonly string _directory = Directory.CreateTempSubdirectory("edge-models-sample-").FullName;
    private readonly string _package = Path.Combine(RepositoryRoot(), "models", "packages", "defect-unet-pruned-fp32");
    private readonly string _samples = Path.Combine(RepositoryRoot(), "models", "samples");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task PrunedSampleModelQuantizedOnSampleImagesKeepsItsClassMaps()
    {
        string output = Path.Combine(_directory, "int8.onnx");
        using StringWriter stdout = new(CultureInfo.InvariantCulture);
        using StringWriter stderr = new(CultureInfo.InvariantCulture);
        ParseResult parse = QuantizeCommand.Create().Parse(
            [Path.Combine(_package, "model.onnx"), output, "--calibration", _samples, "--max-images", CalibrationImages.ToString(CultureInfo.InvariantCulture), "--activation-type", "uint8"]);

        int exitCode = await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, CancellationToken.None);

        Assert.True(exitCode == 0, stderr.ToString());
        await AssertClassMapsAgreeAsync(OnnxModelFile.Load(output), minimumDefectIoU: 0.95);
    }

    [Fact]
    public async Task PrunedSampleModelInFloat16KeepsItsClassMaps()
    {
        ModelProto model = OnnxModelFile.Load(Path.Combine(_package, "model.onnx"));

        ModelProto half = Float16Converter.Convert(model, new Float16ConversionOptions()).Model;

        await AssertClassMapsAgreeAsync(half, minimumDefectIoU: 0.99);
    }

    private async Task AssertClassMapsAgreeAsync(ModelProto candidate, double minimumDefectIoU)
    {
        ModelProto reference = OnnxModelFile.Load(Path.Combine(_package, "model.onnx"));
        ManifestLoadResult manifest = await ModelManifest.LoadAsync(Path.Combine(_package, "manifest.json"), CancellationToken.None);
        Assert.True(manifest.IsValid, string.Join("; ", manifest.Problems));

        // Judged on defective sample images that were not among the four used for calibration.
        HashSet<string> calibration = [.. CalibrationImageSource.FindImages(_samples, CalibrationImages)];
        IReadOnlyList<string> images =
        [
            .. File.ReadLines(Path.Combine(_samples, "labels.jsonl"))
                .Select(FailingImage)
                .OfType<string>()
                .Where(image => !calibration.Contains(image))
                .Take(2),
        ];
        Assert.Equal(2, images.Count);
        CalibrationImageSource tiles = new(images, manifest.Manifest);
        long[] shape = [.. tiles.Shape];
        long agree = 0;
        long total = 0;
        long intersection = 0;
        long union = 0;
        foreach (float[] tile in tiles.ReadSamples(CancellationToken.None))
        {
            (float[] expected, long[] outputShape) = ModelComparison.Run(reference, tile, shape);
            (float[] actual, _) = ModelComparison.Run(candidate, tile, shape);
            int classes = (int)outputShape[1];
            int pixels = expected.Length / classes;
            for (int p = 0; p < pixels; p++)
            {
                int a = Argmax(expected, p, classes, pixels);
                int b = Argmax(actual, p, classes, pixels);
                total++;
                agree += a == b ? 1 : 0;
                intersection += a != 0 && a == b ? 1 : 0;
                union += a != 0 || b != 0 ? 1 : 0;
            }
        }

        Assert.True(union > 100, $"the sample tiles hold only {union} defect pixels");
        Assert.True((double)agree / total > 0.999, $"pixel class agreement {(double)agree / total:P3}");
        Assert.True((double)intersection / union >= minimumDefectIoU, $"defect-pixel IoU {(double)intersection / union:F4}");
    }

    private string? FailingImage(string labelLine)
    {
        using JsonDocument label = JsonDocument.Parse(labelLine);
        return label.RootElement.GetProperty("verdict").GetString() == "FAIL"
            ? Path.Combine(_samples, label.RootElement.GetProperty("file").GetString()!)
            : null;
    }

    private static int Argmax(float[] logits, int pixel, int classes, int pixels)
    {
        int best = 0;
        for (int c = 1; c < classes; c++)
        {
            best = logits[(c * pixels) + pixel] > logits[(best * pixels) + pixel] ? c : best;
        }

        return best;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EdgeRuntime.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no EdgeRuntime.sln above {AppContext.BaseDirectory}");
    }
}
