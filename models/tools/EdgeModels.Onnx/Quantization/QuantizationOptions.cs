namespace EdgeModels.Onnx.Quantization;

/// <summary>Element type and zero point of quantized activations.</summary>
public enum ActivationQuantization
{
    /// <summary>
    /// int8 with zero point 0 (symmetric): what TensorRT's explicit-quantization mode expects. ONNX Runtime's CPU
    /// provider on x86-64 does not fuse int8-activation QDQ groups into integer kernels, so on that target the model
    /// runs in float between the Q/DQ pairs.
    /// </summary>
    Int8Symmetric,

    /// <summary>
    /// uint8 with a calibrated zero point (asymmetric): what ONNX Runtime's x86-64 CPU kernels (QLinearConv, u8s8) are
    /// built for. A Relu directly after a quantized node is folded into that node's QuantizeLinear.
    /// </summary>
    UInt8Asymmetric,
}

/// <summary>Which nodes <see cref="QdqQuantizer"/> quantizes and how. Immutable once built.</summary>
public sealed class QuantizationOptions
{
    /// <summary>The operators with weights that are quantized by default.</summary>
    public static IReadOnlyList<string> DefaultOpTypes { get; } = ["Conv", "ConvTranspose", "MatMul", "Gemm"];

    /// <summary>
    /// Operators that carry quantized tensors through without leaving int8 when every data input is already
    /// quantized, so that ONNX Runtime can fuse them (QLinearConcat, QLinearAdd, int8 MaxPool/Resize, ...).
    /// </summary>
    public static IReadOnlyList<string> PassThroughOpTypes { get; } =
    [
        "Relu", "Concat", "Add", "MaxPool", "AveragePool", "GlobalAveragePool", "Resize", "Reshape", "Flatten",
        "Transpose", "Squeeze", "Unsqueeze",
    ];

    public ActivationQuantization Activations { get; init; } = ActivationQuantization.Int8Symmetric;

    /// <summary>Weighted operators to quantize; a subset of <see cref="DefaultOpTypes"/>.</summary>
    public IReadOnlyCollection<string> OpTypes { get; init; } = DefaultOpTypes;

    /// <summary>Operator types left in float (weighted or pass-through).</summary>
    public IReadOnlyCollection<string> ExcludeOpTypes { get; init; } = [];

    /// <summary>Node names left in float.</summary>
    public IReadOnlyCollection<string> ExcludeNodes { get; init; } = [];

    /// <summary>One scale per output channel (true) or one per weight tensor.</summary>
    public bool PerChannelWeights { get; init; } = true;

    /// <summary>Throws when an option names something this quantizer does not know.</summary>
    /// <exception cref="OnnxModelException">An op type in <see cref="OpTypes"/> is not one of <see cref="DefaultOpTypes"/>.</exception>
    public void Validate()
    {
        foreach (string op in OpTypes)
        {
            if (!DefaultOpTypes.Contains(op))
            {
                throw new OnnxModelException(
                    $"op type '{op}' cannot be quantized as a weighted operator; allowed: {string.Join(", ", DefaultOpTypes)}.");
            }
        }
    }
}

/// <summary>How an activation's range is chosen from the values seen during calibration.</summary>
public enum CalibrationMethod
{
    /// <summary>
    /// The smallest and largest value seen. The default: a defect model's largest activations often come from the
    /// rare defect pixels themselves, which a percentile would clip.
    /// </summary>
    MinMax,

    /// <summary>Clips the tails beyond a percentile of the values seen, trading outliers for resolution.</summary>
    Percentile,
}

/// <summary>How activations are calibrated. Immutable once built.</summary>
public sealed class CalibrationOptions
{
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the share of values (in percent) the range must cover.</summary>
    public double Percentile { get; init; } = 99.99;

    /// <summary>Stop after this many samples; null for all the source yields.</summary>
    public int? MaxSamples { get; init; }

    /// <summary>Throws when an option is out of range, naming the option, its value and what is allowed.</summary>
    /// <exception cref="OnnxModelException">An option is out of range.</exception>
    public void Validate()
    {
        if (Method == CalibrationMethod.Percentile && !(Percentile is > 50 and <= 100))
        {
            throw new OnnxModelException($"percentile {Percentile} is out of range; allowed: more than 50 and at most 100.");
        }

        if (MaxSamples is <= 0)
        {
            throw new OnnxModelException($"max samples {MaxSamples} is out of range; allowed: a positive number.");
        }
    }
}
