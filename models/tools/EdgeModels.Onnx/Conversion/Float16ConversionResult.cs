using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Conversion;

/// <summary>The converted model and what the conversion did. The model is a new object the caller owns.</summary>
/// <remarks>
/// <see cref="KeptFloat32"/> counts, per operator type, the nodes with float tensors that stayed float32.
/// <see cref="ClampedValues"/> counts initializer elements beyond float16's range (±65504) that were clamped.
/// </remarks>
public sealed record Float16ConversionResult(
    ModelProto Model,
    int ConvertedNodes,
    IReadOnlyDictionary<string, int> KeptFloat32,
    int ConvertedInitializers,
    int CastsInserted,
    long ClampedValues);
