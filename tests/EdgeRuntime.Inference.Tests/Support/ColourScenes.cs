using System.Text.Json.Nodes;
using EdgeRuntime.Core.Frames;
using OpenCvSharp;

namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>What a test scene shows: mid grey, or mid grey with one pure red (linear) or pure blue (blob) square.</summary>
internal enum Scene
{
    Clean,
    Red,
    Blue,
}

/// <summary>A golden sample of a test package: the scene, its file name and what the manifest expects of it.</summary>
internal sealed record GoldenScene(string File, Scene Scene, string Verdict, string[]? Classes = null);

/// <summary>
/// 64x64 scenes for <see cref="TestModels.Colour"/>, whose answer is known per pixel: the square (8x8 = 64 pixels) is the
/// only defect, so a model's any-defect mask, verdict and class are known exactly, whatever the tiling.
/// </summary>
internal static class ColourScenes
{
    public const int Size = 64;
    public const int SquareSide = 8;
    public const int SquareX = 20;
    public const int SquareY = 28;

    /// <summary>Fields for a package of the colour model: 32x32 tiles (overlap 8), classes linear and blob, thresholds 0.5, minArea 4.</summary>
    public static ManifestFields Fields(string version = "1.0.0", Action<JsonObject>? edit = null) =>
        new() { Id = "colour", Version = version, Size = 32, ClassNames = ["linear", "blob"], Edit = edit };

    /// <summary>Paints <paramref name="scene"/> into BGR pixels.</summary>
    public static void Paint(Span<byte> bgr, int width, int height, Scene scene)
    {
        bgr[..(width * height * 3)].Fill(128);
        if (scene == Scene.Clean)
        {
            return;
        }

        // BGR order: pure red is (0, 0, 255), pure blue (255, 0, 0).
        byte blue = scene == Scene.Blue ? (byte)255 : (byte)0;
        byte red = scene == Scene.Red ? (byte)255 : (byte)0;
        for (int y = SquareY; y < SquareY + SquareSide; y++)
        {
            for (int x = SquareX; x < SquareX + SquareSide; x++)
            {
                int i = ((y * width) + x) * 3;
                bgr[i] = blue;
                bgr[i + 1] = 0;
                bgr[i + 2] = red;
            }
        }
    }

    /// <summary>A frame of <paramref name="scene"/> rented from <paramref name="pool"/>; the caller owns it.</summary>
    public static Frame Frame(FramePool pool, string id, Scene scene)
    {
        Frame frame = pool.Rent(Size, Size, PixelFormat.Bgr24);
        Paint(frame.Pixels, Size, Size, scene);
        frame.FrameId = id;
        return frame;
    }

    /// <summary>The scene as PNG bytes.</summary>
    public static byte[] Png(Scene scene)
    {
        using var image = new Mat(Size, Size, MatType.CV_8UC3);
        Paint(image.AsSpan<byte>(), Size, Size, scene);
        Cv2.ImEncode(".png", image, out byte[] png);
        return png;
    }

    /// <summary>
    /// Writes a package of the colour model whose golden samples are <paramref name="golden"/> (images in golden/, hashes
    /// and expectations in the manifest).
    /// </summary>
    public static string WritePackage(string directory, IReadOnlyList<GoldenScene> golden, string version = "1.0.0", Action<JsonObject>? edit = null)
    {
        Directory.CreateDirectory(Path.Combine(directory, "golden"));
        var samples = new JsonArray();
        foreach (GoldenScene sample in golden)
        {
            byte[] png = Png(sample.Scene);
            File.WriteAllBytes(Path.Combine(directory, "golden", sample.File), png);
            var item = new JsonObject { ["image"] = "golden/" + sample.File, ["sha256"] = TestPackage.Sha256(png), ["verdict"] = sample.Verdict };
            if (sample.Classes is { } classes)
            {
                item["classes"] = new JsonArray(classes.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray());
            }

            samples.Add(item);
        }

        return TestPackage.Write(directory, TestModels.Colour, Fields(version, manifest =>
        {
            if (samples.Count > 0)
            {
                manifest["goldenSamples"] = samples;
            }

            edit?.Invoke(manifest);
        }));
    }

    /// <summary>Three samples the colour model gets right: a red square (FAIL, linear), a blue square (FAIL, blob) and a clean scene.</summary>
    public static IReadOnlyList<GoldenScene> TrueSamples { get; } =
    [
        new("red.png", Scene.Red, "FAIL", ["linear"]),
        new("blue.png", Scene.Blue, "FAIL", ["blob"]),
        new("clean.png", Scene.Clean, "PASS"),
    ];
}
