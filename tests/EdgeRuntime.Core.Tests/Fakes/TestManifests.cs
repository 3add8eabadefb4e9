using System.Text;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Core.Tests.Fakes;

internal static class TestManifests
{
    public const string Json = """
    {
      "schemaVersion": 1,
      "id": "fake-model",
      "version": "1.0.0",
      "task": "semantic-segmentation",
      "model": { "file": "model.onnx", "sha256": "0000000000000000000000000000000000000000000000000000000000000000", "precision": "fp32" },
      "input": { "name": "input", "layout": "NCHW", "width": 8, "height": 8, "channels": 1, "colorOrder": "GRAY", "dtype": "float32",
                 "resize": "tile", "normalization": { "scale": 1.0, "mean": [0.0], "std": [1.0] } },
      "output": { "name": "logits", "kind": "logits", "activation": "softmax" },
      "classes": [
        { "index": 0, "name": "good", "color": "#000000" },
        { "index": 1, "name": "linear", "color": "#ff0000", "threshold": 0.5, "minArea": 1 }
      ],
      "tiling": { "tileWidth": 8, "tileHeight": 8, "overlap": 0 }
    }
    """;

    public static ModelManifest Fake()
    {
        ManifestLoadResult result = ModelManifest.Parse(Encoding.UTF8.GetBytes(Json));
        return result.Manifest ?? throw new InvalidOperationException(string.Join("; ", result.Problems));
    }
}
