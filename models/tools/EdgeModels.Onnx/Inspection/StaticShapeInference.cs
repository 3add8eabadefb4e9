using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Inspection;

/// <summary>
/// Propagates static shapes through the operators of convolutional networks (and the small integer shape
/// computations exporters emit around them: Shape, Gather, Concat, Unsqueeze, Slice) so that FLOPs can be counted.
/// </summary>
/// <remarks>
/// Deliberately partial: an operator it does not know leaves its outputs unknown unless the model's value_info
/// declares a static shape for them. Not a replacement for ONNX shape inference; just enough for an estimate.
/// </remarks>
internal sealed class StaticShapeInference
{
    // Integer tensors larger than this are never shape computations; keeping them would only cost memory.
    private const int MaxTrackedValues = 64;

    private static readonly HashSet<string> s_sameShapeOps = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu", "Gelu", "Softplus",
        "Softsign", "Mish", "Clip", "Identity", "Dropout", "Cast", "CastLike", "BatchNormalization",
        "InstanceNormalization", "LayerNormalization", "GroupNormalization", "LRN", "Softmax", "LogSoftmax", "Hardmax",
        "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign", "Not", "Sin", "Cos",
        "QuantizeLinear", "DequantizeLinear", "IsNaN", "IsInf", "Shrink", "ThresholdedRelu",
    };

    private static readonly HashSet<string> s_broadcastOps = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater", "LessOrEqual",
        "GreaterOrEqual", "And", "Or", "Xor", "Where", "Mod", "PRelu", "BitShift",
    };

    private readonly GraphIndex _index;
    private readonly long _opset;
    private readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _values = new(StringComparer.Ordinal);

    private StaticShapeInference(GraphIndex index, long opset)
    {
        _index = index;
        _opset = opset;
    }

    /// <summary>Infers shapes given fully static shapes for the fed graph inputs.</summary>
    public static StaticShapeInference Run(ModelProto model, GraphIndex index, IReadOnlyDictionary<string, long[]> inputShapes)
    {
        StaticShapeInference inference = new(index, Opsets.DefaultOpset(model));
        inference.Seed(inputShapes);
        foreach (NodeProto node in index.Graph.Node)
        {
            inference.Visit(node);
        }

        return inference;
    }

    public bool TryGetShape(string value, out long[] shape) => _shapes.TryGetValue(value, out shape!);

    private void Seed(IReadOnlyDictionary<string, long[]> inputShapes)
    {
        foreach ((string name, long[] shape) in inputShapes)
        {
            _shapes[name] = shape;
        }

        foreach ((string name, TensorProto initializer) in _index.Initializers)
        {
            if (_index.IsGraphInput(name) && inputShapes.ContainsKey(name))
            {
                continue;
            }

            _shapes[name] = [.. initializer.Dims];
            TrackValues(name, initializer);
        }

        // A declared static shape is a fallback for operators this class does not model.
        foreach (ValueInfoProto info in _index.Graph.ValueInfo)
        {
            if (DeclaredStaticShape(info) is { } shape)
            {
                _shapes.TryAdd(info.Name, shape);
            }
        }
    }

    private static long[]? DeclaredStaticShape(ValueInfoProto info)
    {
        if (info.Type?.TensorType?.Shape is not { } shape)
        {
            return null;
        }

        long[] dims = new long[shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            if (!shape.Dim[i].HasDimValue)
            {
                return null;
            }

            dims[i] = shape.Dim[i].DimValue;
        }

        return dims;
    }

    private void TrackValues(string name, TensorProto tensor)
    {
        bool integral = tensor.DataType is ElementTypes.Int64 or ElementTypes.Int32;
        if (integral && TensorData.ElementCount(tensor) <= MaxTrackedValues)
        {
            _values[name] = TensorData.ReadInt64s(tensor);
        }
    }

    private long[]? Shape(NodeProto node, int input) =>
        input < node.Input.Count && node.Input[input].Length > 0 && _shapes.TryGetValue(node.Input[input], out long[]? shape) ? shape : null;

    private long[]? Values(NodeProto node, int input) =>
        input < node.Input.Count && node.Input[input].Length > 0 && _values.TryGetValue(node.Input[input], out long[]? values) ? values : null;

    private float[]? FloatConstant(NodeProto node, int input)
    {
        if (input >= node.Input.Count || node.Input[input].Length == 0 || !_index.TryGetConstant(node.Input[input], out TensorProto tensor))
        {
            return null;
        }

        return tensor.DataType is ElementTypes.Float or ElementTypes.Float16 or ElementTypes.Double ? TensorData.ReadFloats(tensor) : null;
    }

    private void SetOutput(NodeProto node, int output, long[]? shape, long[]? values = null)
    {
        if (output >= node.Output.Count || node.Output[output].Length == 0)
        {
            return;
        }

        if (shape is not null)
        {
            _shapes[node.Output[output]] = shape;
        }

        if (values is not null && values.Length <= MaxTrackedValues)
        {
            _values[node.Output[output]] = values;
        }
    }

    private void Visit(NodeProto node)
    {
        if (!Opsets.IsDefaultDomain(node.Domain))
        {
            return;
        }

        string op = node.OpType;
        if (s_sameShapeOps.Contains(op))
        {
            SetOutput(node, 0, Shape(node, 0), op is "Identity" or "Cast" ? Values(node, 0) : null);
            if (op == "Dropout")
            {
                SetOutput(node, 1, Shape(node, 0));
            }

            return;
        }

        if (s_broadcastOps.Contains(op))
        {
            VisitBroadcast(node);
            return;
        }

        switch (op)
        {
            case "Constant":
                if (GraphIndex.ConstantNodeTensor(node) is { } constant)
                {
                    SetOutput(node, 0, [.. constant.Dims]);
                    TrackValues(node.Output[0], constant);
                }

                break;
            case "Conv":
                SetOutput(node, 0, ConvOutput(node));
                break;
            case "ConvTranspose":
                SetOutput(node, 0, ConvTransposeOutput(node));
                break;
            case "MaxPool" or "AveragePool" or "LpPool":
                SetOutput(node, 0, PoolOutput(node));
                SetOutput(node, 1, op == "MaxPool" ? PoolOutput(node) : null);
                break;
            case "GlobalAveragePool" or "GlobalMaxPool" or "GlobalLpPool":
                SetOutput(node, 0, Shape(node, 0) is { Length: > 2 } input ? [input[0], input[1], .. Enumerable.Repeat(1L, input.Length - 2)] : null);
                break;
            case "Concat":
                VisitConcat(node);
                break;
            case "Resize" or "Upsample":
                SetOutput(node, 0, ResizeOutput(node));
                break;
            case "MatMul":
                SetOutput(node, 0, MatMulOutput(Shape(node, 0), Shape(node, 1)));
                break;
            case "Gemm":
                SetOutput(node, 0, GemmOutput(node));
                break;
            case "Flatten":
                SetOutput(node, 0, FlattenOutput(node));
                break;
            case "Reshape":
                SetOutput(node, 0, ReshapeOutput(node), Values(node, 0));
                break;
            case "Transpose":
                SetOutput(node, 0, TransposeOutput(node));
                break;
            case "Pad":
                SetOutput(node, 0, PadOutput(node));
                break;
            case "Squeeze" or "Unsqueeze":
                VisitSqueeze(node, op == "Unsqueeze");
                break;
            case "Shape":
                VisitShape(node);
                break;
            case "Size":
                SetOutput(node, 0, [], Shape(node, 0) is { } sized ? [TensorData.ElementCount(sized)] : null);
                break;
            case "Gather":
                VisitGather(node);
                break;
            case "Slice":
                VisitSlice(node);
                break;
            case "Expand":
                SetOutput(node, 0, Shape(node, 0) is { } expanded && Values(node, 1) is { } target ? Broadcast(expanded, target) : null);
                break;
            case "ConstantOfShape":
                SetOutput(node, 0, Values(node, 0));
                break;
            case "ArgMax" or "ArgMin":
                SetOutput(node, 0, ReduceOutput(node, Shape(node, 0), [Attributes.GetInt(node, "axis", 0)]));
                break;
            default:
                if (op.StartsWith("Reduce", StringComparison.Ordinal))
                {
                    VisitReduce(node);
                }

                break;
        }
    }

    private void VisitBroadcast(NodeProto node)
    {
        long[]? shape = Shape(node, 0);
        for (int i = 1; i < node.Input.Count && shape is not null; i++)
        {
            shape = Shape(node, i) is { } other ? Broadcast(shape, other) : null;
        }

        long[]? values = null;
        if (node.Input.Count == 2 && Values(node, 0) is { } left && Values(node, 1) is { } right &&
            node.OpType is "Add" or "Sub" or "Mul" or "Div" && (left.Length == right.Length || left.Length == 1 || right.Length == 1))
        {
            int length = Math.Max(left.Length, right.Length);
            values = new long[length];
            for (int i = 0; i < length; i++)
            {
                long a = left[left.Length == 1 ? 0 : i];
                long b = right[right.Length == 1 ? 0 : i];
                values[i] = node.OpType switch
                {
                    "Add" => a + b,
                    "Sub" => a - b,
                    "Mul" => a * b,
                    _ => b == 0 ? 0 : a / b,
                };
            }
        }

        SetOutput(node, 0, shape, values);
    }

    private static long[]? Broadcast(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        long[] result = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            long db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
            {
                return null;
            }

            result[i] = da == 1 ? db : da;
        }

        return result;
    }

    private long[]? ConvOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { Length: > 2 } input || Shape(node, 1) is not { Length: > 2 } weight)
        {
            return null;
        }

        long[] kernel = Attributes.GetInts(node, "kernel_shape") ?? weight[2..];
        long[]? spatial = SlidingWindowOutput(node, input[2..], kernel, ceilMode: false);
        return spatial is null ? null : [input[0], weight[0], .. spatial];
    }

    private long[]? PoolOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { Length: > 2 } input || Attributes.GetInts(node, "kernel_shape") is not { } kernel)
        {
            return null;
        }

        long[]? spatial = SlidingWindowOutput(node, input[2..], kernel, Attributes.GetInt(node, "ceil_mode", 0) != 0);
        return spatial is null ? null : [input[0], input[1], .. spatial];
    }

    private static long[]? SlidingWindowOutput(NodeProto node, long[] input, long[] kernel, bool ceilMode)
    {
        int rank = input.Length;
        if (kernel.Length != rank)
        {
            return null;
        }

        long[] strides = Attributes.GetInts(node, "strides") ?? [.. Enumerable.Repeat(1L, rank)];
        long[] dilations = Attributes.GetInts(node, "dilations") ?? [.. Enumerable.Repeat(1L, rank)];
        long[] pads = Attributes.GetInts(node, "pads") ?? new long[2 * rank];
        string autoPad = Attributes.GetString(node, "auto_pad", "NOTSET");
        long[] output = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long extent = ((kernel[i] - 1) * dilations[i]) + 1;
            output[i] = autoPad switch
            {
                "SAME_UPPER" or "SAME_LOWER" => (input[i] + strides[i] - 1) / strides[i],
                "VALID" => ((input[i] - extent) / strides[i]) + 1,
                _ => ceilMode
                    ? (long)Math.Ceiling((double)(input[i] + pads[i] + pads[i + rank] - extent) / strides[i]) + 1
                    : ((input[i] + pads[i] + pads[i + rank] - extent) / strides[i]) + 1,
            };
        }

        return output;
    }

    private long[]? ConvTransposeOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { Length: > 2 } input || Shape(node, 1) is not { Length: > 2 } weight)
        {
            return null;
        }

        int rank = input.Length - 2;
        long channels = weight[1] * Attributes.GetInt(node, "group", 1);
        if (Attributes.GetInts(node, "output_shape") is { } explicitShape)
        {
            return explicitShape.Length == rank ? [input[0], channels, .. explicitShape] : null;
        }

        long[] kernel = Attributes.GetInts(node, "kernel_shape") ?? weight[2..];
        long[] strides = Attributes.GetInts(node, "strides") ?? [.. Enumerable.Repeat(1L, rank)];
        long[] dilations = Attributes.GetInts(node, "dilations") ?? [.. Enumerable.Repeat(1L, rank)];
        long[] pads = Attributes.GetInts(node, "pads") ?? new long[2 * rank];
        long[] outputPadding = Attributes.GetInts(node, "output_padding") ?? new long[rank];
        string autoPad = Attributes.GetString(node, "auto_pad", "NOTSET");
        long[] output = [input[0], channels, .. new long[rank]];
        for (int i = 0; i < rank; i++)
        {
            long inputSize = input[i + 2];
            output[i + 2] = autoPad is "SAME_UPPER" or "SAME_LOWER"
                ? inputSize * strides[i]
                : (strides[i] * (inputSize - 1)) + outputPadding[i] + ((kernel[i] - 1) * dilations[i]) + 1 - pads[i] - pads[i + rank];
        }

        return output;
    }

    private void VisitConcat(NodeProto node)
    {
        long axis = Attributes.GetInt(node, "axis", 0);
        long[]? shape = null;
        List<long>? values = [];
        for (int i = 0; i < node.Input.Count; i++)
        {
            if (Shape(node, i) is not { } part)
            {
                SetOutput(node, 0, null);
                return;
            }

            int normalized = (int)(axis < 0 ? axis + part.Length : axis);
            if (shape is null)
            {
                shape = (long[])part.Clone();
            }
            else if (part.Length == shape.Length)
            {
                shape[normalized] += part[normalized];
            }

            if (values is not null && Values(node, i) is { } partValues)
            {
                values.AddRange(partValues);
            }
            else
            {
                values = null;
            }
        }

        SetOutput(node, 0, shape, values?.ToArray());
    }

    private long[]? ResizeOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { } input)
        {
            return null;
        }

        if (node.OpType == "Resize" && _opset >= 11 && Values(node, 3) is { } sizes && sizes.Length == input.Length)
        {
            return sizes;
        }

        int scalesInput = node.OpType == "Resize" && _opset >= 11 ? 2 : 1;
        float[]? scales = FloatConstant(node, scalesInput);
        if (scales is null && Attributes.Find(node, "scales") is { } attribute)
        {
            scales = [.. attribute.Floats];
        }

        if (scales is null || scales.Length != input.Length)
        {
            return null;
        }

        long[] output = new long[input.Length];
        for (int i = 0; i < output.Length; i++)
        {
            output[i] = (long)Math.Floor(input[i] * (double)scales[i]);
        }

        return output;
    }

    internal static long[]? MatMulOutput(long[]? a, long[]? b)
    {
        if (a is null || b is null || a.Length == 0 || b.Length == 0)
        {
            return null;
        }

        long[] left = a.Length == 1 ? [1, a[0]] : a;
        long[] right = b.Length == 1 ? [b[0], 1] : b;
        if (left[^1] != right[^2])
        {
            return null;
        }

        long[]? batch = Broadcast(left[..^2], right[..^2]);
        if (batch is null)
        {
            return null;
        }

        List<long> output = [.. batch];
        if (a.Length > 1)
        {
            output.Add(left[^2]);
        }

        if (b.Length > 1)
        {
            output.Add(right[^1]);
        }

        return [.. output];
    }

    private long[]? GemmOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { Length: 2 } a || Shape(node, 1) is not { Length: 2 } b)
        {
            return null;
        }

        long m = Attributes.GetInt(node, "transA", 0) != 0 ? a[1] : a[0];
        long n = Attributes.GetInt(node, "transB", 0) != 0 ? b[0] : b[1];
        return [m, n];
    }

    private long[]? FlattenOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { } input)
        {
            return null;
        }

        long axis = Attributes.GetInt(node, "axis", 1);
        int split = (int)(axis < 0 ? axis + input.Length : axis);
        return [TensorData.ElementCount(input[..split]), TensorData.ElementCount(input[split..])];
    }

    private long[]? ReshapeOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { } input || Values(node, 1) is not { } target)
        {
            return null;
        }

        bool allowZero = Attributes.GetInt(node, "allowzero", 0) != 0;
        long[] output = new long[target.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            output[i] = target[i] == 0 && !allowZero && i < input.Length ? input[i] : target[i];
            if (output[i] == -1)
            {
                inferred = i;
            }
            else
            {
                known *= output[i];
            }
        }

        if (inferred >= 0)
        {
            if (known == 0)
            {
                return null;
            }

            output[inferred] = TensorData.ElementCount(input) / known;
        }

        return output;
    }

    private long[]? TransposeOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { } input)
        {
            return null;
        }

        long[] perm = Attributes.GetInts(node, "perm") ?? [.. Enumerable.Range(0, input.Length).Reverse().Select(i => (long)i)];
        return perm.Length == input.Length ? [.. perm.Select(axis => input[axis])] : null;
    }

    private long[]? PadOutput(NodeProto node)
    {
        if (Shape(node, 0) is not { } input)
        {
            return null;
        }

        long[]? pads = _opset >= 11 ? Values(node, 1) : Attributes.GetInts(node, "pads");
        if (pads is null || pads.Length != 2 * input.Length || (node.Input.Count > 3 && node.Input[3].Length > 0))
        {
            return null;
        }

        long[] output = new long[input.Length];
        for (int i = 0; i < input.Length; i++)
        {
            output[i] = input[i] + pads[i] + pads[i + input.Length];
        }

        return output;
    }

    private void VisitSqueeze(NodeProto node, bool unsqueeze)
    {
        if (Shape(node, 0) is not { } input)
        {
            return;
        }

        long[]? axes = _opset >= 13 ? Values(node, 1) : Attributes.GetInts(node, "axes");
        List<long> output = [.. input];
        if (unsqueeze)
        {
            if (axes is null)
            {
                return;
            }

            int rank = input.Length + axes.Length;
            foreach (long axis in axes.Select(a => a < 0 ? a + rank : a).Order())
            {
                output.Insert((int)axis, 1);
            }
        }
        else if (axes is null)
        {
            output.RemoveAll(dim => dim == 1);
        }
        else
        {
            foreach (long axis in axes.Select(a => a < 0 ? a + input.Length : a).OrderDescending())
            {
                output.RemoveAt((int)axis);
            }
        }

        SetOutput(node, 0, [.. output], Values(node, 0));
    }

    private void VisitShape(NodeProto node)
    {
        if (Shape(node, 0) is not { } input)
        {
            return;
        }

        long start = Attributes.GetInt(node, "start", 0);
        long end = Attributes.GetInt(node, "end", input.Length);
        int from = (int)Math.Clamp(start < 0 ? start + input.Length : start, 0, input.Length);
        int to = (int)Math.Clamp(end < 0 ? end + input.Length : end, 0, input.Length);
        long[] dims = to > from ? input[from..to] : [];
        SetOutput(node, 0, [dims.Length], dims);
    }

    private void VisitGather(NodeProto node)
    {
        if (Shape(node, 0) is not { } data || Shape(node, 1) is not { } indices)
        {
            return;
        }

        long axis = Attributes.GetInt(node, "axis", 0);
        int normalized = (int)(axis < 0 ? axis + data.Length : axis);
        long[] shape = [.. data[..normalized], .. indices, .. data[(normalized + 1)..]];
        long[]? values = null;
        if (data.Length == 1 && Values(node, 0) is { } dataValues && Values(node, 1) is { } indexValues)
        {
            values = [.. indexValues.Select(i => dataValues[(int)(i < 0 ? i + dataValues.Length : i)])];
        }

        SetOutput(node, 0, shape, values);
    }

    private void VisitSlice(NodeProto node)
    {
        if (Shape(node, 0) is not { } input)
        {
            return;
        }

        long[]? starts = _opset >= 10 ? Values(node, 1) : Attributes.GetInts(node, "starts");
        long[]? ends = _opset >= 10 ? Values(node, 2) : Attributes.GetInts(node, "ends");
        long[]? axes = _opset >= 10 ? Values(node, 3) : Attributes.GetInts(node, "axes");
        long[]? steps = _opset >= 10 ? Values(node, 4) : null;
        if (starts is null || ends is null || starts.Length != ends.Length)
        {
            return;
        }

        bool axesGiven = _opset >= 10 ? node.Input.Count > 3 && node.Input[3].Length > 0 : axes is not null;
        bool stepsGiven = _opset >= 10 && node.Input.Count > 4 && node.Input[4].Length > 0;
        if ((axesGiven && axes is null) || (stepsGiven && steps is null))
        {
            return;
        }

        long[] output = (long[])input.Clone();
        long[]? values = input.Length == 1 && Values(node, 0) is { } data ? data : null;
        for (int i = 0; i < starts.Length; i++)
        {
            long axis = axes is null ? i : axes[i] < 0 ? axes[i] + input.Length : axes[i];
            long step = steps is null ? 1 : steps[i];
            long dim = input[axis];
            long start = Math.Clamp(starts[i] < 0 ? starts[i] + dim : starts[i], 0, step > 0 ? dim : dim - 1);
            long end = Math.Clamp(ends[i] < 0 ? ends[i] + dim : ends[i], step > 0 ? 0 : -1, dim);
            long count = step > 0 ? Math.Max(0, (end - start + step - 1) / step) : Math.Max(0, (start - end - step - 1) / -step);
            output[axis] = count;
            if (values is not null)
            {
                long[] sliced = new long[count];
                for (long k = 0; k < count; k++)
                {
                    sliced[k] = values[start + (k * step)];
                }

                values = sliced;
            }
        }

        SetOutput(node, 0, output, values);
    }

    private void VisitReduce(NodeProto node)
    {
        bool axesAsInput = node.OpType == "ReduceSum" ? _opset >= 13 : _opset >= 18;
        long[]? axes = axesAsInput ? Values(node, 1) : Attributes.GetInts(node, "axes");
        if (axesAsInput && axes is null && node.Input.Count > 1 && node.Input[1].Length > 0)
        {
            return;
        }

        SetOutput(node, 0, ReduceOutput(node, Shape(node, 0), axes));
    }

    private static long[]? ReduceOutput(NodeProto node, long[]? input, long[]? axes)
    {
        if (input is null)
        {
            return null;
        }

        bool keepDims = Attributes.GetInt(node, "keepdims", 1) != 0;
        if (axes is null || axes.Length == 0)
        {
            if (Attributes.GetInt(node, "noop_with_empty_axes", 0) != 0)
            {
                return input;
            }

            axes = [.. Enumerable.Range(0, input.Length).Select(i => (long)i)];
        }

        HashSet<long> reduced = [.. axes.Select(a => a < 0 ? a + input.Length : a)];
        List<long> output = [];
        for (int i = 0; i < input.Length; i++)
        {
            if (!reduced.Contains(i))
            {
                output.Add(input[i]);
            }
            else if (keepDims)
            {
                output.Add(1);
            }
        }

        return [.. output];
    }
}
