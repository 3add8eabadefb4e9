using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Vision.Tests;

/// <summary>Hand-built manifests shaped like the sample model's, varied per test with <c>with</c>.</summary>
internal static class TestManifests
{
    public static ModelManifest Segmentation(
        int width = 16,
        int height = 16,
        int overlap = 4,
        ColorOrder colorOrder = ColorOrder.Rgb,
        TensorLayout layout = TensorLayout.Nchw,
        ResizeMode resize = ResizeMode.Tile,
        OutputKind kind = OutputKind.Logits,
        OutputActivation activation = OutputActivation.Softmax,
        double threshold = 0.5,
        int linearMinArea = 1,
        int blobMinArea = 1)
    {
        bool gray = colorOrder == ColorOrder.Gray;
        return new ModelManifest
        {
            SchemaVersion = 1,
            Id = "test-unet",
            Version = "1.0.0",
            Task = ModelTask.SemanticSegmentation,
            Model = new ModelFileSpec { File = "model.onnx", Sha256 = new string('0', 64), Precision = ModelPrecision.Fp32 },
            Input = new InputSpec
            {
                Name = "input",
                Layout = layout,
                Width = width,
                Height = height,
                Channels = gray ? 1 : 3,
                ColorOrder = colorOrder,
                DataType = InputDataType.Float32,
                Resize = resize,

                // Distinct per channel, so a channel mix-up cannot hide behind equal coefficients.
                Normalization = new NormalizationSpec
                {
                    Scale = 1 / 255.0,
                    Mean = gray ? [0.45] : [0.485, 0.456, 0.406],
                    Std = gray ? [0.226] : [0.229, 0.224, 0.225],
                },
            },
            Output = new OutputSpec { Name = "logits", Kind = kind, Activation = activation },
            Classes =
            [
                new ClassSpec { Index = 0, Name = "good", Color = "#000000" },
                new ClassSpec { Index = 1, Name = "linear", Color = "#ff3030", Threshold = threshold, MinArea = linearMinArea },
                new ClassSpec { Index = 2, Name = "blob", Color = "#30a0ff", Threshold = threshold, MinArea = blobMinArea },
            ],
            Tiling = resize == ResizeMode.Tile ? new TilingSpec { TileWidth = width, TileHeight = height, Overlap = overlap } : null,
        };
    }
}
