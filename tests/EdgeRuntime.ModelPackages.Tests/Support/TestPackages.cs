using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeRuntime.ModelPackages.Tests.Support;

/// <summary>
/// Package folders built around TestData/tiny-segmenter.onnx: a real ONNX model, input "input" float32
/// [N, 3, 32, 32], output "logits" float32 [N, 3, 32, 32] (see TestData/make_tiny_segmenter.py).
/// </summary>
public static class TestPackages
{
    public const string ModelFileName = "tiny-segmenter.onnx";

    /// <summary>A manifest that is valid for the tiny model, with a placeholder hash.</summary>
    public const string ValidManifestTemplate = """
        {
          "schemaVersion": 1,
          "id": "tiny-segmenter",
          "version": "1.2.3-rc.1+build.7",
          "task": "semantic-segmentation",
          "model": { "file": "tiny-segmenter.onnx", "sha256": "SHA256", "precision": "fp32" },
          "input": {
            "name": "input", "layout": "NCHW",
            "width": 32, "height": 32, "channels": 3,
            "colorOrder": "RGB",
            "dtype": "float32",
            "resize": "tile",
            "normalization": { "scale": 0.00392156862745098, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25] }
          },
          "output": { "name": "logits", "kind": "logits", "activation": "softmax" },
          "classes": [
            { "index": 0, "name": "good",   "color": "#000000" },
            { "index": 1, "name": "linear", "color": "#ff3030", "threshold": 0.5, "minArea": 6 },
            { "index": 2, "name": "blob",   "color": "#30a0ff", "threshold": 0.4, "minArea": 10 }
          ],
          "tiling": { "tileWidth": 32, "tileHeight": 32, "overlap": 8 },
          "provenance": {
            "framework": "pytorch 1.13",
            "trainingData": "synthetic seed 1",
            "createdUtc": "2026-11-22T10:15:00Z",
            "metrics": { "anyDefectDice": 0.9 },
            "gitCommit": "abc123"
          },
          "goldenSamples": [ { "image": "golden/fail-001.png", "sha256": "GOLDEN_SHA256", "verdict": "FAIL", "classes": ["linear"] } ]
        }
        """;

    public static string ModelSourcePath => Path.Combine(AppContext.BaseDirectory, "TestData", ModelFileName);

    public static byte[] ModelBytes => File.ReadAllBytes(ModelSourcePath);

    /// <summary>The bytes of golden/fail-001.png (a stand-in: the package library never decodes golden images).</summary>
    public static byte[] GoldenBytes => [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3];

    /// <summary>SHA-256 as 64 lowercase hex digits, computed here independently of the library.</summary>
    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The valid manifest with the tiny model's and the golden image's real hashes, as a mutable document.</summary>
    public static JsonObject ValidManifest() =>
        (JsonObject)JsonNode.Parse(ValidManifestTemplate
            .Replace("GOLDEN_SHA256", Sha256Hex(GoldenBytes), StringComparison.Ordinal)
            .Replace("SHA256", Sha256Hex(ModelBytes), StringComparison.Ordinal))!;

    public static byte[] ToBytes(JsonNode manifest) => Encoding.UTF8.GetBytes(manifest.ToJsonString());

    /// <summary>Writes a complete package folder (manifest, model, golden image) and returns its path.</summary>
    public static string Create(string folder, Action<JsonObject>? editManifest = null)
    {
        Directory.CreateDirectory(Path.Combine(folder, "golden"));
        File.Copy(ModelSourcePath, Path.Combine(folder, ModelFileName));
        File.WriteAllBytes(Path.Combine(folder, "golden", "fail-001.png"), GoldenBytes);
        JsonObject manifest = ValidManifest();
        editManifest?.Invoke(manifest);
        File.WriteAllBytes(Path.Combine(folder, PackagePaths.ManifestFileName), ToBytes(manifest));
        return folder;
    }
}
