using System.Text.Json.Serialization;

namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>What the model computes. Schema version 1 knows one task.</summary>
public enum ModelTask
{
    /// <summary>Per-pixel class scores, shape [N, K, H, W].</summary>
    [JsonStringEnumMemberName("semantic-segmentation")]
    SemanticSegmentation,
}

/// <summary>Numeric precision of the model's weights and arithmetic (its I/O stays float32).</summary>
public enum ModelPrecision
{
    [JsonStringEnumMemberName("fp32")]
    Fp32,

    [JsonStringEnumMemberName("fp16")]
    Fp16,

    [JsonStringEnumMemberName("int8")]
    Int8,
}

/// <summary>Memory order of the input tensor.</summary>
public enum TensorLayout
{
    /// <summary>[N, C, H, W].</summary>
    [JsonStringEnumMemberName("NCHW")]
    Nchw,

    /// <summary>[N, H, W, C].</summary>
    [JsonStringEnumMemberName("NHWC")]
    Nhwc,
}

/// <summary>Channel order the model was trained on.</summary>
public enum ColorOrder
{
    /// <summary>Three channels, red first.</summary>
    [JsonStringEnumMemberName("RGB")]
    Rgb,

    /// <summary>Three channels, blue first (OpenCV's native order).</summary>
    [JsonStringEnumMemberName("BGR")]
    Bgr,

    /// <summary>One luminance channel.</summary>
    [JsonStringEnumMemberName("GRAY")]
    Gray,
}

/// <summary>Element type of the input tensor. fp16 and int8 models keep float32 I/O.</summary>
public enum InputDataType
{
    [JsonStringEnumMemberName("float32")]
    Float32,
}

/// <summary>How a frame whose size differs from the model input is fed to the model.</summary>
public enum ResizeMode
{
    /// <summary>Larger frames are cut into overlapping tiles of the input size (see <see cref="TilingSpec"/>).</summary>
    [JsonStringEnumMemberName("tile")]
    Tile,

    /// <summary>Frames are resized to the input size; the mask is resized back.</summary>
    [JsonStringEnumMemberName("stretch")]
    Stretch,
}

/// <summary>What the output tensor holds.</summary>
public enum OutputKind
{
    /// <summary>Raw scores; the runtime applies <see cref="OutputSpec.Activation"/>.</summary>
    [JsonStringEnumMemberName("logits")]
    Logits,

    /// <summary>Already activated; <see cref="OutputSpec.Activation"/> says which activation produced them.</summary>
    [JsonStringEnumMemberName("probabilities")]
    Probabilities,
}

/// <summary>Activation that turns logits into per-pixel probabilities.</summary>
public enum OutputActivation
{
    /// <summary>Classes are exclusive: probabilities over K sum to 1 per pixel.</summary>
    [JsonStringEnumMemberName("softmax")]
    Softmax,

    /// <summary>Each class is scored on its own.</summary>
    [JsonStringEnumMemberName("sigmoid")]
    Sigmoid,
}

/// <summary>Expected verdict for a golden sample image.</summary>
public enum GoldenVerdict
{
    [JsonStringEnumMemberName("PASS")]
    Pass,

    [JsonStringEnumMemberName("FAIL")]
    Fail,
}
