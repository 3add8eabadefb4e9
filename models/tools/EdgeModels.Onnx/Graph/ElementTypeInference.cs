using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Graph;

/// <summary>
/// Infers the element type of every value in a graph from the declared types of inputs, initializers and
/// value_info and from per-operator typing rules.
/// </summary>
/// <remarks>
/// Values whose type cannot be derived (operators outside the default domain, operators not listed here) are
/// absent from the result, so that a transform can treat them conservatively instead of guessing.
/// </remarks>
internal static class ElementTypeInference
{
    // Operators whose outputs all share the element type of input 0 (multi-output exceptions handled below).
    private static readonly HashSet<string> s_sameAsFirstInput = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Add", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "BatchNormalization", "Ceil",
        "Celu", "CenterCropPad", "Clip", "Col2Im", "Compress", "Concat", "Conv", "ConvTranspose", "Cos", "Cosh", "CumSum",
        "DepthToSpace", "Div", "Dropout", "Einsum", "Elu", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather",
        "GatherElements", "GatherND", "Gelu", "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "GridSample",
        "GroupNormalization", "HardSigmoid", "HardSwish", "Hardmax", "Identity", "InstanceNormalization", "LRN",
        "LayerNormalization", "LeakyRelu", "Log", "LogSoftmax", "LpNormalization", "LpPool", "MatMul", "Max", "MaxPool",
        "MaxRoiPool", "MaxUnpool", "Mean", "Min", "Mish", "Mod", "Mul", "Neg", "Pad", "Pow", "PRelu", "Range",
        "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
        "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize", "ReverseSequence", "RoiAlign",
        "Round", "ScatterElements", "ScatterND", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Slice", "Softmax",
        "Softplus", "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tan", "Tanh",
        "ThresholdedRelu", "Tile", "TopK", "Transpose", "Trilu", "Unsqueeze", "Upsample",
    };

    private static readonly HashSet<string> s_int64Outputs = new(StringComparer.Ordinal)
    {
        "Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression",
    };

    private static readonly HashSet<string> s_boolOutputs = new(StringComparer.Ordinal)
    {
        "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
    };

    /// <summary>Element type (a <see cref="TensorProto.Types.DataType"/> value) of each value it could type.</summary>
    public static Dictionary<string, int> Run(GraphProto graph)
    {
        Dictionary<string, int> types = new(StringComparer.Ordinal);
        foreach (ValueInfoProto value in graph.Input.Concat(graph.ValueInfo).Concat(graph.Output))
        {
            if (value.Type?.TensorType is { HasElemType: true } tensor && tensor.ElemType != 0)
            {
                types[value.Name] = tensor.ElemType;
            }
        }

        foreach (TensorProto initializer in graph.Initializer)
        {
            types[initializer.Name] = initializer.DataType;
        }

        foreach (NodeProto node in graph.Node)
        {
            for (int output = 0; output < node.Output.Count; output++)
            {
                if (node.Output[output].Length > 0 && OutputType(node, output, types) is { } type)
                {
                    types[node.Output[output]] = type;
                }
            }
        }

        return types;
    }

    private static int? OutputType(NodeProto node, int output, Dictionary<string, int> types)
    {
        if (!Opsets.IsDefaultDomain(node.Domain))
        {
            return types.TryGetValue(node.Output[output], out int declared) ? declared : null;
        }

        int? InputType(int input) =>
            input < node.Input.Count && types.TryGetValue(node.Input[input], out int type) ? type : null;

        string op = node.OpType;
        if (s_int64Outputs.Contains(op))
        {
            return ElementTypes.Int64;
        }

        if (s_boolOutputs.Contains(op))
        {
            return ElementTypes.Bool;
        }

        switch (op)
        {
            case "Constant":
                return GraphIndex.ConstantNodeTensor(node)?.DataType;
            case "Cast":
                return (int)Attributes.GetInt(node, "to", 0);
            case "CastLike":
                return InputType(1);
            case "ConstantOfShape":
                return Attributes.Find(node, "value")?.T?.DataType ?? ElementTypes.Float;
            case "QuantizeLinear":
                return InputType(2) ?? (Attributes.GetInt(node, "output_dtype", 0) is > 0 and long dtype ? (int)dtype : ElementTypes.UInt8);
            case "DequantizeLinear":
                return InputType(1);
            case "Where":
                return InputType(1);
            case "MaxPool" or "TopK" when output == 1:
                return ElementTypes.Int64;
            case "Dropout" when output == 1:
                return ElementTypes.Bool;
            case "RandomNormal" or "RandomUniform":
                return (int)Attributes.GetInt(node, "dtype", ElementTypes.Float);
            case "RandomNormalLike" or "RandomUniformLike" or "EyeLike":
                return Attributes.Find(node, "dtype") is { } like ? (int)like.I : InputType(0);
            default:
                return s_sameAsFirstInput.Contains(op) ? InputType(0) : null;
        }
    }
}
