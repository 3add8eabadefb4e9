namespace EdgeModels.Onnx.Inspection;

/// <summary>What <see cref="ModelInspector"/> found in a model. Immutable.</summary>
/// <remarks>
/// <see cref="ParameterCount"/> counts the elements of all initializers (weights, biases, quantization scales);
/// <see cref="ParameterBytes"/> is the space they take in the file.
/// </remarks>
public sealed record ModelReport(
    long IrVersion,
    string Producer,
    IReadOnlyList<OpsetSummary> Opsets,
    IReadOnlyList<TensorSummary> Inputs,
    IReadOnlyList<TensorSummary> Outputs,
    int NodeCount,
    IReadOnlyList<OperatorCount> Operators,
    long ParameterCount,
    long ParameterBytes,
    ComputeEstimate Compute);

/// <summary>One imported operator set; the domain is "ai.onnx" for the default set.</summary>
public sealed record OpsetSummary(string Domain, long Version);

/// <summary>A graph input or output. Dims hold numbers, symbolic names, or "?" for an unnamed unknown dimension.</summary>
public sealed record TensorSummary(string Name, string ElementType, IReadOnlyList<string> Dims);

/// <summary>How many nodes run an operator (domain-qualified outside the default domain).</summary>
public sealed record OperatorCount(string OpType, int Count);

/// <summary>
/// Multiply-accumulates of Conv, ConvTranspose, MatMul and Gemm at <see cref="InputShapes"/>; FLOPs are counted
/// as 2 x MACs. Other operators (activations, pooling, element-wise) are not counted.
/// </summary>
/// <remarks>
/// <see cref="Assumptions"/> says which symbolic or overridden dimensions were given which size.
/// <see cref="UncountedNodes"/> lists compute nodes whose shapes could not be inferred; when it is not empty the
/// totals are lower bounds.
/// </remarks>
public sealed record ComputeEstimate(
    long Macs,
    IReadOnlyDictionary<string, IReadOnlyList<long>> InputShapes,
    IReadOnlyList<string> Assumptions,
    IReadOnlyList<string> UncountedNodes)
{
    public long Flops => 2 * Macs;

    public bool IsComplete => UncountedNodes.Count == 0;
}
