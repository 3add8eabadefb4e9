using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using OpenCvSharp;

namespace EdgeModels.Tests.Evaluation;

/// <summary>
/// A temporary folder with a model package around TestData/colour-segmenter.onnx (pure red pixels are class 1
/// "linear", pure blue class 2 "blob", mid grey good; see make_colour_segmenter.py) and images/ and masks/ folders
/// the tests fill with <see cref="LabelledSample"/>.
/// </summary>
internal sealed class EvaluationTestFolder : IDisposable
{
    public const int TileSize = 32;

    public EvaluationTestFolder(int minArea = 3)
    {
        Root = Directory.CreateTempSubdirectory("edge-models-eval-").FullName;
        Package = WritePackage(Path.Combine(Root, "colour-segmenter"), "colour-segmenter", minArea);
        Images = Directory.CreateDirectory(Path.Combine(Root, "images")).FullName;
        Masks = Directory.CreateDirectory(Path.Combine(Root, "masks")).FullName;
    }

    public string Root { get; }

    public string Package { get; }

    public string Images { get; }

    public string Masks { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>Writes a package folder (model.onnx + manifest.json with its real hash) and returns it.</summary>
    public static string WritePackage(string directory, string id, int minArea)
    {
        Directory.CreateDirectory(directory);
        byte[] model = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "colour-segmenter.onnx"));
        File.WriteAllBytes(Path.Combine(directory, "model.onnx"), model);
        string json = $$"""
            {
              "schemaVersion": 1,
              "id": "{{id}}",
              "version": "1.2.3",
              "task": "semantic-segmentation",
              "model": { "file": "model.onnx", "sha256": "{{Convert.ToHexStringLower(SHA256.HashData(model))}}", "precision": "fp32" },
              "input": {
                "name": "input", "layout": "NCHW", "width": {{TileSize}}, "height": {{TileSize}}, "channels": 3, "colorOrder": "RGB",
                "dtype": "float32", "resize": "tile",
                "normalization": { "scale": 0.00392156862745098, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25] }
              },
              "output": { "name": "logits", "kind": "logits", "activation": "softmax" },
              "classes": [
                { "index": 0, "name": "good", "color": "#000000" },
                { "index": 1, "name": "linear", "color": "#ff3030", "threshold": 0.5, "minArea": {{minArea}} },
                { "index": 2, "name": "blob", "color": "#30a0ff", "threshold": 0.5, "minArea": {{minArea}} }
              ],
              "tiling": { "tileWidth": {{TileSize}}, "tileHeight": {{TileSize}}, "overlap": 8 }
            }
            """;
        File.WriteAllText(Path.Combine(directory, "manifest.json"), json);
        return directory;
    }

    /// <summary>Runs a command in process, capturing stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(Command command, params string[] args)
    {
        using StringWriter output = new(CultureInfo.InvariantCulture);
        using StringWriter error = new(CultureInfo.InvariantCulture);
        ParseResult parse = command.Parse(args);
        int exitCode = await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }
}

/// <summary>
/// One labelled test image: a mid-grey picture with painted rectangles (what the model sees) and a mask of true
/// class rectangles (what it should see); the two are set independently so a test can make the model right, wrong
/// or half right on purpose.
/// </summary>
internal sealed class LabelledSample(string name, int width = EvaluationTestFolder.TileSize, int height = EvaluationTestFolder.TileSize)
{
    /// <summary>BGR pure red: the model calls it class 1.</summary>
    public static readonly Vec3b Red = new(128, 128, 255);

    /// <summary>BGR pure blue: the model calls it class 2.</summary>
    public static readonly Vec3b Blue = new(255, 128, 128);

    private readonly List<(Rect Area, byte ClassIndex)> _truth = [];
    private readonly List<(Rect Area, Vec3b Colour)> _paint = [];

    public LabelledSample Truth(int x, int y, int w, int h, byte classIndex)
    {
        _truth.Add((new Rect(x, y, w, h), classIndex));
        return this;
    }

    public LabelledSample Paint(int x, int y, int w, int h, Vec3b colour)
    {
        _paint.Add((new Rect(x, y, w, h), colour));
        return this;
    }

    public void Write(EvaluationTestFolder folder) => Write(folder.Images, folder.Masks);

    public void Write(string images, string masks)
    {
        using Mat image = new(height, width, MatType.CV_8UC3, new Scalar(128, 128, 128));
        foreach ((Rect area, Vec3b colour) in _paint)
        {
            Fill(area, (x, y) => image.Set(y, x, colour));
        }

        using Mat mask = new(height, width, MatType.CV_8UC1, new Scalar(0));
        foreach ((Rect area, byte classIndex) in _truth)
        {
            Fill(area, (x, y) => mask.Set(y, x, classIndex));
        }

        Assert.True(Cv2.ImWrite(Path.Combine(images, name), image));
        Assert.True(Cv2.ImWrite(Path.Combine(masks, name), mask));
    }

    private static void Fill(Rect area, Action<int, int> set)
    {
        for (int y = area.Top; y < area.Bottom; y++)
        {
            for (int x = area.Left; x < area.Right; x++)
            {
                set(x, y);
            }
        }
    }
}
