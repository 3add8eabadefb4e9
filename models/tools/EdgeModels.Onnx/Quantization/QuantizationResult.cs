using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Quantization;

/// <summary>The quantized model and what was done to it. The model is a new object the caller owns.</summary>
/// <remarks>
/// <see cref="QuantizedByOp"/> counts nodes with int8 weights per operator type; <see cref="QuantizedTensors"/>
/// counts activation tensors given a QuantizeLinear/DequantizeLinear pair; <see cref="ClampedBiasValues"/> counts
/// bias elements that did not fit int32 at scale (input scale x weight scale) and were clamped.
/// </remarks>
public sealed record QuantizationResult(
    ModelProto Model,
    IReadOnlyDictionary<string, int> QuantizedByOp,
    int QuantizedTensors,
    int FoldedRelus,
    IReadOnlyList<string> Skipped,
    long ClampedBiasValues);
