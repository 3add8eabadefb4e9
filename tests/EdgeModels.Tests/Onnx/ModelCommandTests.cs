using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeModels.Cli.Commands;
using EdgeModels.Onnx;
using EdgeModels.Onnx.Inspection;
using EdgeModels.Onnx.Protos;
using EdgeModels.Onnx.Verification;
using OpenCvSharp;

namespace EdgeModels.Tests.Onnx;

/// <summary>The inspect, fp16 and quantize commands run in process on a real model, images and manifest.</summary>
public sealed class ModelCommandTests : IDisposable
{
    private const int Size = 32;

    private readonly string _directory = Directory.CreateTempSubdirectory("edge-models-cli-").FullName;
    private readonly string _model;

    public ModelCommandTests()
    {
        _model = Path.Combine(_directory, "model.onnx");
        OnnxModelFile.Save(OnnxTestGraph.TinyUNet(Size), _model);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task InspectPrintsJsonWithTheInspectorsFigures()
    {
        ModelReport expected = ModelInspector.Inspect(OnnxModelFile.Load(_model));

        (int exitCode, string output, _) = await RunAsync(InspectCommand.Create(), _model, "--json");

        Assert.Equal(0, exitCode);
        using JsonDocument json = JsonDocument.Parse(output);
        JsonElement compute = json.RootElement.GetProperty("compute");
        Assert.Equal(expected.Compute.Flops, compute.GetProperty("flops").GetInt64());
        Assert.Equal(expected.ParameterCount, json.RootElement.GetProperty("parameterCount").GetInt64());
        Assert.Contains(json.RootElement.GetProperty("operators").EnumerateArray(), o => o.GetProperty("opType").GetString() == "ConvTranspose");
    }

    [Fact]
    public async Task InspectTextNamesTheAssumedBatchSize()
    {
        (int exitCode, string output, _) = await RunAsync(InspectCommand.Create(), _model, "--input-shape", "2,3,32,32");

        Assert.Equal(0, exitCode);
        Assert.Contains("GFLOPs", output, StringComparison.Ordinal);
        Assert.Contains("--input-shape sets it to 2", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectRefusesAMalformedInputShape()
    {
        (int exitCode, _, string error) = await RunAsync(InspectCommand.Create(), _model, "--input-shape", "1,three,32,32");

        Assert.Equal(2, exitCode);
        Assert.Contains("1,three,32,32", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fp16WritesAModelThatRunsInOnnxRuntime()
    {
        string output = Path.Combine(_directory, "fp16.onnx");

        (int exitCode, string stdout, string error) = await RunAsync(Fp16Command.Create(), _model, output, "--keep-fp32-ops", "Softmax,Resize");

        Assert.True(exitCode == 0, error);
        Assert.Contains("check: runs in ONNX Runtime", stdout, StringComparison.Ordinal);
        ModelComparison.Run(OnnxModelFile.Load(output), OnnxTestData.SmoothImage(1, 3, Size), [1, 3, Size, Size]);
    }

    [Fact]
    public async Task QuantizeCalibratesOnImagesPreprocessedByTheManifest()
    {
        string calibration = WriteCalibrationImages(count: 4);
        WriteManifest();
        string output = Path.Combine(_directory, "int8.onnx");

        (int exitCode, string stdout, string error) = await RunAsync(
            QuantizeCommand.Create(), _model, output, "--calibration", calibration, "--activation-type", "uint8", "--method", "percentile");

        Assert.True(exitCode == 0, error);
        Assert.Contains("calibrated 4/4 images", error, StringComparison.Ordinal);
        Assert.Contains("check: runs in ONNX Runtime", stdout, StringComparison.Ordinal);
        ModelProto quantized = OnnxModelFile.Load(output);
        Assert.Contains(quantized.Graph.Node, n => n.OpType == "QuantizeLinear");
        Assert.Contains(quantized.MetadataProps, p => p.Key == "edge_models.quantization" && p.Value.Contains("uint8", StringComparison.Ordinal));
    }

    [Fact]
    public async Task QuantizeWithoutAManifestSaysWhereItLooked()
    {
        string calibration = WriteCalibrationImages(count: 1);

        (int exitCode, _, string error) = await RunAsync(
            QuantizeCommand.Create(), _model, Path.Combine(_directory, "int8.onnx"), "--calibration", calibration);

        Assert.Equal(2, exitCode);
        Assert.Contains(Path.Combine(_directory, "manifest.json"), error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "int8.onnx")));
    }

    [Fact]
    public async Task QuantizeRefusesAnUnknownActivationType()
    {
        (int exitCode, _, string error) = await RunAsync(
            QuantizeCommand.Create(), _model, Path.Combine(_directory, "int8.onnx"), "--calibration", _directory, "--activation-type", "int4");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("int4", error, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(Command command, params string[] args)
    {
        using StringWriter output = new(CultureInfo.InvariantCulture);
        using StringWriter error = new(CultureInfo.InvariantCulture);
        ParseResult parse = command.Parse(args);
        int exitCode = await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private string WriteCalibrationImages(int count)
    {
        // Larger than the model input, so tile mode cuts several samples from each image.
        string folder = Path.Combine(_directory, "calibration");
        Directory.CreateDirectory(folder);
        Random random = new(5);
        for (int i = 0; i < count; i++)
        {
            const int rows = 48;
            const int cols = 56;
            using Mat image = new(rows, cols, MatType.CV_8UC3);
            for (int y = 0; y < rows; y++)
            {
                for (int x = 0; x < cols; x++)
                {
                    byte level = (byte)(128 + (100 * Math.Sin((x + (i * 7)) * 0.2) * Math.Cos(y * 0.15)));
                    image.Set(y, x, new Vec3b(level, (byte)(255 - level), (byte)random.Next(256)));
                }
            }

            Assert.True(Cv2.ImWrite(Path.Combine(folder, $"{i:D3}.png"), image));
        }

        return folder;
    }

    private void WriteManifest()
    {
        string json = $$"""
            {
              "schemaVersion": 1,
              "id": "tiny-unet",
              "version": "1.0.0",
              "task": "semantic-segmentation",
              "model": { "file": "model.onnx", "sha256": "{{new string('0', 64)}}", "precision": "fp32" },
              "input": {
                "name": "input", "layout": "NCHW", "width": {{Size}}, "height": {{Size}}, "channels": 3, "colorOrder": "RGB",
                "dtype": "float32", "resize": "tile",
                "normalization": { "scale": 0.00392156862745098, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25] }
              },
              "output": { "name": "logits", "kind": "logits", "activation": "softmax" },
              "classes": [
                { "index": 0, "name": "good", "color": "#000000" },
                { "index": 1, "name": "linear", "color": "#ff3030", "threshold": 0.5, "minArea": 6 },
                { "index": 2, "name": "blob", "color": "#30a0ff", "threshold": 0.5, "minArea": 10 }
              ],
              "tiling": { "tileWidth": {{Size}}, "tileHeight": {{Size}}, "overlap": 8 }
            }
            """;
        File.WriteAllText(Path.Combine(_directory, "manifest.json"), json);
    }
}
