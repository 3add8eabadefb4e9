using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Inspection;

/// <summary>Summarizes a model: I/O, opsets, operator counts, parameters and an estimate of its compute.</summary>
/// <remarks>Stateless and thread-safe; the model is only read.</remarks>
public static class ModelInspector
{
    /// <summary>Inspects <paramref name="model"/>.</summary>
    /// <param name="model">The model; not modified.</param>
    /// <param name="inputShape">
    /// Shape to assume for the first fed input (e.g. N,C,H,W), overriding its declared dimensions; null to use the
    /// declared ones, with 1 assumed for a symbolic first (batch) dimension.
    /// </param>
    /// <exception cref="OnnxModelException"><paramref name="inputShape"/> does not match the input's rank or declared sizes.</exception>
    public static ModelReport Inspect(ModelProto model, IReadOnlyList<long>? inputShape = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        GraphIndex index = new(model.Graph);

        List<TensorSummary> inputs = [.. index.FedInputs.Select(Summarize)];
        List<TensorSummary> outputs = [.. model.Graph.Output.Select(Summarize)];
        List<OpsetSummary> opsets =
        [
            .. model.OpsetImport.Select(import => new OpsetSummary(Opsets.IsDefaultDomain(import.Domain) ? "ai.onnx" : import.Domain, import.Version)),
        ];
        List<OperatorCount> operators =
        [
            .. model.Graph.Node
                .GroupBy(Opsets.QualifiedOpType, StringComparer.Ordinal)
                .Select(group => new OperatorCount(group.Key, group.Count()))
                .OrderByDescending(count => count.Count)
                .ThenBy(count => count.OpType, StringComparer.Ordinal),
        ];

        long parameters = 0;
        long parameterBytes = 0;
        foreach (TensorProto initializer in model.Graph.Initializer)
        {
            long count = TensorData.ElementCount(initializer);
            parameters += count;
            parameterBytes += initializer.HasRawData ? initializer.RawData.Length : count * ElementSize(initializer.DataType);
        }

        string producer = string.IsNullOrEmpty(model.ProducerVersion) ? model.ProducerName : $"{model.ProducerName} {model.ProducerVersion}";
        return new ModelReport(
            model.IrVersion,
            producer,
            opsets,
            inputs,
            outputs,
            model.Graph.Node.Count,
            operators,
            parameters,
            parameterBytes,
            EstimateCompute(model, index, inputShape));
    }

    private static ComputeEstimate EstimateCompute(ModelProto model, GraphIndex index, IReadOnlyList<long>? inputShape)
    {
        List<string> assumptions = [];
        Dictionary<string, long[]> shapes = new(StringComparer.Ordinal);
        List<string> unresolvedInputs = [];
        bool first = true;
        foreach (ValueInfoProto input in index.FedInputs)
        {
            long[]? shape = first && inputShape is not null
                ? OverriddenShape(input, inputShape, assumptions)
                : AssumedShape(input, assumptions);
            first = false;
            if (shape is null)
            {
                unresolvedInputs.Add(input.Name);
                continue;
            }

            shapes[input.Name] = shape;
        }

        StaticShapeInference inference = StaticShapeInference.Run(model, index, shapes);
        long macs = 0;
        List<string> uncounted = [];
        foreach (NodeProto node in model.Graph.Node)
        {
            if (!Opsets.IsDefaultDomain(node.Domain) || node.OpType is not ("Conv" or "ConvTranspose" or "MatMul" or "Gemm"))
            {
                continue;
            }

            long? nodeMacs = NodeMacs(node, inference);
            if (nodeMacs is null)
            {
                uncounted.Add(string.IsNullOrEmpty(node.Name) ? $"{node.OpType} -> {node.Output[0]}" : node.Name);
            }
            else
            {
                macs += nodeMacs.Value;
            }
        }

        if (unresolvedInputs.Count > 0)
        {
            assumptions.Add($"no static shape for input(s) {string.Join(", ", unresolvedInputs)}: pass --input-shape to count the nodes that depend on them");
        }

        return new ComputeEstimate(
            macs,
            shapes.ToDictionary(pair => pair.Key, pair => (IReadOnlyList<long>)pair.Value, StringComparer.Ordinal),
            assumptions,
            uncounted);
    }

    private static long? NodeMacs(NodeProto node, StaticShapeInference shapes)
    {
        long[]? Shape(int input) =>
            input < node.Input.Count && shapes.TryGetShape(node.Input[input], out long[] shape) ? shape : null;

        long[]? output = shapes.TryGetShape(node.Output[0], out long[] outputShape) ? outputShape : null;
        switch (node.OpType)
        {
            case "Conv":
                // Each output element of each batch item costs one MAC per weight of its output channel.
                return output is { Length: > 2 } && Shape(1) is { } convWeight
                    ? output[0] * TensorData.ElementCount(output[2..]) * TensorData.ElementCount(convWeight)
                    : null;
            case "ConvTranspose":
                // Each input element scatters through every weight of its input channel.
                return Shape(0) is { Length: > 2 } input && Shape(1) is { } transposeWeight
                    ? input[0] * TensorData.ElementCount(input[2..]) * TensorData.ElementCount(transposeWeight)
                    : null;
            case "MatMul":
                return output is not null && Shape(0) is { Length: > 0 } left
                    ? TensorData.ElementCount(output) * left[^1]
                    : null;
            default:
                return output is not null && Shape(0) is { Length: 2 } a
                    ? TensorData.ElementCount(output) * (Attributes.GetInt(node, "transA", 0) != 0 ? a[0] : a[1])
                    : null;
        }
    }

    private static long[]? AssumedShape(ValueInfoProto input, List<string> assumptions)
    {
        if (input.Type?.TensorType?.Shape is not { } shape)
        {
            return null;
        }

        long[] dims = new long[shape.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            TensorShapeProto.Types.Dimension dim = shape.Dim[i];
            if (dim.HasDimValue && dim.DimValue > 0)
            {
                dims[i] = dim.DimValue;
            }
            else if (i == 0)
            {
                dims[i] = 1;
                assumptions.Add($"input '{input.Name}' dimension 0 ({DimText(dim)}) is symbolic; assumed batch size 1");
            }
            else
            {
                assumptions.Add($"input '{input.Name}' dimension {i} ({DimText(dim)}) is symbolic; no size assumed");
                return null;
            }
        }

        return dims;
    }

    private static long[] OverriddenShape(ValueInfoProto input, IReadOnlyList<long> requested, List<string> assumptions)
    {
        TensorShapeProto? declared = input.Type?.TensorType?.Shape;
        if (declared is not null && declared.Dim.Count != requested.Count)
        {
            throw new OnnxModelException(
                $"input shape [{string.Join(",", requested)}] has rank {requested.Count}, but input '{input.Name}' has rank {declared.Dim.Count} " +
                $"([{string.Join(",", declared.Dim.Select(DimText))}]).");
        }

        for (int i = 0; i < requested.Count; i++)
        {
            if (requested[i] <= 0)
            {
                throw new OnnxModelException($"input shape [{string.Join(",", requested)}]: dimension {i} must be positive.");
            }

            if (declared is null)
            {
                continue;
            }

            TensorShapeProto.Types.Dimension dim = declared.Dim[i];
            if (dim.HasDimValue && dim.DimValue > 0 && dim.DimValue != requested[i])
            {
                throw new OnnxModelException(
                    $"input shape [{string.Join(",", requested)}]: dimension {i} of input '{input.Name}' is fixed at {dim.DimValue}, not {requested[i]}.");
            }

            if (!dim.HasDimValue || dim.DimValue <= 0)
            {
                assumptions.Add($"input '{input.Name}' dimension {i} ({DimText(dim)}) is symbolic; --input-shape sets it to {requested[i]}");
            }
        }

        return [.. requested];
    }

    private static TensorSummary Summarize(ValueInfoProto value)
    {
        TypeProto.Types.Tensor? tensor = value.Type?.TensorType;
        string elementType = tensor is null ? "non-tensor" : ElementTypes.Name(tensor.ElemType);
        IReadOnlyList<string> dims = tensor?.Shape is { } shape ? [.. shape.Dim.Select(DimText)] : [];
        return new TensorSummary(value.Name, elementType, dims);
    }

    private static string DimText(TensorShapeProto.Types.Dimension dim) =>
        dim.HasDimValue ? dim.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : dim.HasDimParam && dim.DimParam.Length > 0 ? dim.DimParam
        : "?";

    private static long ElementSize(int elementType) => elementType switch
    {
        ElementTypes.Double or ElementTypes.Int64 or (int)TensorProto.Types.DataType.Uint64 or (int)TensorProto.Types.DataType.Complex64 => 8,
        ElementTypes.Float or ElementTypes.Int32 or (int)TensorProto.Types.DataType.Uint32 => 4,
        ElementTypes.Float16 or (int)TensorProto.Types.DataType.Bfloat16 or (int)TensorProto.Types.DataType.Int16 or (int)TensorProto.Types.DataType.Uint16 => 2,
        (int)TensorProto.Types.DataType.Complex128 => 16,
        _ => 1,
    };
}
