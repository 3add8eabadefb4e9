using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Quantization;

/// <summary>
/// What <see cref="QdqQuantizer"/> will quantize in a model, decided before calibration so that calibration
/// measures exactly the tensors that need ranges. Create with <see cref="QdqQuantizer.Plan"/>.
/// </summary>
/// <remarks>Immutable to callers; apply it once with <see cref="QdqQuantizer.Apply"/>.</remarks>
public sealed class QuantizationPlan
{
    internal QuantizationPlan(
        ModelProto sourceModel,
        ModelProto working,
        QuantizationOptions options,
        IReadOnlyList<NodeProto> weightedNodes,
        IReadOnlyList<string> activations,
        IReadOnlyDictionary<string, string> aliases,
        int foldedRelus,
        IReadOnlyList<string> skipped)
    {
        SourceModel = sourceModel;
        Working = working;
        Options = options;
        WeightedNodes = weightedNodes;
        Activations = activations;
        Aliases = aliases;
        FoldedRelus = foldedRelus;
        Skipped = skipped;
        TensorsToCalibrate = [.. activations.Select(Root).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The float model as given; calibration runs it.</summary>
    public ModelProto SourceModel { get; }

    public QuantizationOptions Options { get; }

    /// <summary>Tensors (names in <see cref="SourceModel"/>) whose ranges calibration must measure.</summary>
    public IReadOnlyList<string> TensorsToCalibrate { get; }

    /// <summary>Nodes whose weights are quantized.</summary>
    public IReadOnlyList<string> QuantizedNodeNames => [.. WeightedNodes.Select(node => node.Name)];

    /// <summary>Why candidate nodes were left in float, one line each.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Relu nodes absorbed into the preceding QuantizeLinear (uint8 activations only).</summary>
    public int FoldedRelus { get; }

    // The model being rewritten: a copy of the source with foldable Relus already removed.
    internal ModelProto Working { get; }

    internal IReadOnlyList<NodeProto> WeightedNodes { get; }

    // Tensors that get a QuantizeLinear/DequantizeLinear pair, in graph order.
    internal IReadOnlyList<string> Activations { get; }

    // Tensor -> tensor whose quantization parameters it shares (outputs of MaxPool, Resize, Reshape, ...).
    internal IReadOnlyDictionary<string, string> Aliases { get; }

    internal string Root(string tensor)
    {
        while (Aliases.TryGetValue(tensor, out string? parent))
        {
            tensor = parent;
        }

        return tensor;
    }
}
