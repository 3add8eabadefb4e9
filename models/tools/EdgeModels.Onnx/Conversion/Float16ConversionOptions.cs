namespace EdgeModels.Onnx.Conversion;

/// <summary>What <see cref="Float16Converter"/> leaves in float32. Immutable once built.</summary>
public sealed class Float16ConversionOptions
{
    /// <summary>
    /// Operators kept in float32 unless the caller says otherwise, each because float16 (11-bit mantissa,
    /// largest value 65504, smallest normal 6.1e-5) breaks it in a way the rest of a conv net does not notice:
    /// <list type="bullet">
    /// <item>Softmax, LogSoftmax, Exp: e^x overflows float16 above x ~ 11, and the normalising sum loses the small
    /// class probabilities the per-pixel thresholds compare against.</item>
    /// <item>Log, Pow, Sqrt, Reciprocal: overflow for large inputs, and lose most digits for inputs near zero.</item>
    /// <item>ReduceMean, ReduceSum, ReduceSumSquare, ReduceL2, ReduceLogSumExp, ReduceProd: a sum over thousands of
    /// elements overflows or rounds away the small terms.</item>
    /// <item>BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization: variance plus an epsilon
    /// of 1e-5, which float16 can only hold as a subnormal, then division by a small standard deviation.</item>
    /// <item>Resize: its scales input must stay float32 by the ONNX spec, and ONNX Runtime's CPU provider has no float16
    /// Resize, so converting it gains nothing and costs two casts.</item>
    /// </list>
    /// Div is deliberately not listed: in conv nets it divides by constants or by the output of a Sqrt that stays
    /// in float32, and keeping every Div would fragment the float16 graph with casts.
    /// </summary>
    public static IReadOnlyList<string> DefaultKeepFloat32Ops { get; } =
    [
        "Softmax", "LogSoftmax", "Exp", "Log", "Pow", "Sqrt", "Reciprocal",
        "ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL2", "ReduceLogSumExp", "ReduceProd",
        "BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization",
        "Resize",
    ];

    /// <summary>Operator types (default ONNX domain) that stay float32, with Casts around them.</summary>
    public IReadOnlyCollection<string> KeepFloat32Ops { get; init; } = DefaultKeepFloat32Ops;

    /// <summary>Node names that stay float32 whatever their operator.</summary>
    public IReadOnlyCollection<string> KeepFloat32Nodes { get; init; } = [];
}
