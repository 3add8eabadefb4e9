using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>What goes into a test package's manifest; defaults describe the tiny test models truthfully.</summary>
internal sealed record ManifestFields
{
    public string Id { get; init; } = "tiny-unet";

    public string Version { get; init; } = "1.0.0";

    public string Precision { get; init; } = "fp32";

    public string InputName { get; init; } = "input";

    public int Channels { get; init; } = TestModels.Channels;

    public int Size { get; init; } = TestModels.Size;

    public string OutputName { get; init; } = "logits";

    public int Classes { get; init; } = TestModels.Classes;

    /// <summary>Defect class names (index 1 on); null = defect1, defect2, ...</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Last word on the manifest document (thresholds, tiling, golden samples).</summary>
    public Action<JsonObject>? Edit { get; init; }
}

/// <summary>Writes model package folders (manifest.json + model.onnx) for tests.</summary>
internal static class TestPackage
{
    /// <summary>Writes a package with <paramref name="onnxBytes"/> and a manifest whose sha256 matches them.</summary>
    public static string Write(string directory, byte[] onnxBytes, ManifestFields? fields = null)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "model.onnx"), onnxBytes);
        File.WriteAllBytes(Path.Combine(directory, "manifest.json"), ManifestJson(fields ?? new ManifestFields(), Sha256(onnxBytes)));
        return directory;
    }

    public static string Write(string directory, string onnxPath, ManifestFields? fields = null) =>
        Write(directory, File.ReadAllBytes(onnxPath), fields);

    /// <summary>A validated manifest for planner tests.</summary>
    public static ModelManifest Manifest(ManifestFields fields, string sha256)
    {
        ManifestLoadResult result = ModelManifest.Parse(ManifestJson(fields, sha256));
        Assert.True(result.IsValid, string.Join("; ", result.Problems));
        return result.Manifest;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] ManifestJson(ManifestFields fields, string sha256)
    {
        var classes = new JsonArray();
        string[] colors = ["#000000", "#ff3030", "#30a0ff", "#30ff30", "#ffff30"];
        for (int i = 0; i < fields.Classes; i++)
        {
            string name = i == 0 ? "good" : fields.ClassNames is { } names ? names[i - 1] : $"defect{i}";
            var item = new JsonObject { ["index"] = i, ["name"] = name, ["color"] = colors[i % colors.Length] };
            if (i > 0)
            {
                item["threshold"] = 0.5;
                item["minArea"] = 4;
            }

            classes.Add(item);
        }

        var mean = new JsonArray();
        var std = new JsonArray();
        for (int c = 0; c < fields.Channels; c++)
        {
            mean.Add(0.5);
            std.Add(0.25);
        }

        var manifest = new JsonObject
        {
            ["schemaVersion"] = 1,
            ["id"] = fields.Id,
            ["version"] = fields.Version,
            ["task"] = "semantic-segmentation",
            ["model"] = new JsonObject { ["file"] = "model.onnx", ["sha256"] = sha256, ["precision"] = fields.Precision },
            ["input"] = new JsonObject
            {
                ["name"] = fields.InputName,
                ["layout"] = "NCHW",
                ["width"] = fields.Size,
                ["height"] = fields.Size,
                ["channels"] = fields.Channels,
                ["colorOrder"] = fields.Channels == 1 ? "GRAY" : "RGB",
                ["dtype"] = "float32",
                ["resize"] = "tile",
                ["normalization"] = new JsonObject { ["scale"] = 1.0 / 255, ["mean"] = mean, ["std"] = std },
            },
            ["output"] = new JsonObject { ["name"] = fields.OutputName, ["kind"] = "logits", ["activation"] = "softmax" },
            ["classes"] = classes,
            ["tiling"] = new JsonObject { ["tileWidth"] = fields.Size, ["tileHeight"] = fields.Size, ["overlap"] = 8 },
        };
        fields.Edit?.Invoke(manifest);
        return System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}
