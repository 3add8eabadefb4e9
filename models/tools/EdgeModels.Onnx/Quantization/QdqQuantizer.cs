using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Quantization;

/// <summary>
/// Static INT8 quantization in QDQ form: weights become int8 initializers (symmetric, per output channel by
/// default) read through DequantizeLinear, and activations get QuantizeLinear/DequantizeLinear pairs with
/// calibrated per-tensor parameters, so that ONNX Runtime and TensorRT can fuse each group into an integer kernel.
/// </summary>
/// <remarks>
/// Placement follows ONNX Runtime's own quantizer: the data inputs and the output of every quantized weighted node
/// (Conv, ConvTranspose, MatMul, Gemm) are quantized; a pass-through operator (Concat, Add, MaxPool, ...) whose
/// data inputs are all quantized gets its output quantized too, with the input's parameters where ONNX Runtime
/// requires them equal (MaxPool, Resize, reshapes). Graph outputs stay in float so the logits keep their precision.
/// Biases become int32 at scale (input scale x weight scale), as the integer kernels require.
/// Stateless and thread-safe; the input model is not modified.
/// </remarks>
public static class QdqQuantizer
{
    private const float MinimumRange = 1e-12f;

    private static readonly HashSet<string> s_quantizedOps = new(StringComparer.Ordinal)
    {
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger",
        "MatMulInteger",
    };

    // Operators that only move or select values: the output can share the input's scale and zero point,
    // which is what lets ONNX Runtime drop their Q/DQ pair and run them on int8 data.
    private static readonly HashSet<string> s_sharedParameterOps = new(StringComparer.Ordinal)
    {
        "MaxPool", "Resize", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
    };

    /// <summary>Quantizes in one step: plan, calibrate with <paramref name="source"/>, apply.</summary>
    /// <exception cref="OnnxModelException">The model or an option cannot be quantized; the message says why.</exception>
    public static QuantizationResult Quantize(
        ModelProto model,
        QuantizationOptions options,
        ICalibrationSampleSource source,
        CalibrationOptions calibration,
        IProgress<int>? progress,
        CancellationToken cancellationToken)
    {
        QuantizationPlan plan = Plan(model, options);
        IReadOnlyDictionary<string, TensorRange> ranges = ActivationCalibrator.Collect(plan, source, calibration, progress, cancellationToken);
        return Apply(plan, ranges);
    }

    /// <summary>Decides what to quantize; calibrate <see cref="QuantizationPlan.TensorsToCalibrate"/> next.</summary>
    /// <exception cref="OnnxModelException">
    /// The default opset is below 13 (per-channel DequantizeLinear needs 13), the model is already quantized, or an
    /// option is invalid.
    /// </exception>
    public static QuantizationPlan Plan(ModelProto model, QuantizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        long opset = Opsets.DefaultOpset(model);
        if (opset < 13)
        {
            throw new OnnxModelException(
                $"the model imports ONNX opset {opset}; QDQ quantization with per-channel weights needs opset 13 or later " +
                "(re-export it, e.g. torch.onnx.export(..., opset_version=13)).");
        }

        if (model.Graph.Node.FirstOrDefault(node => s_quantizedOps.Contains(node.OpType)) is { } quantized)
        {
            throw new OnnxModelException($"the model is already quantized (node '{quantized.Name}' is {quantized.OpType}).");
        }

        ModelProto working = model.Clone();
        GraphProto graph = working.Graph;
        GraphIndex index = new(graph);
        Dictionary<string, int> types = ElementTypeInference.Run(graph);
        bool IsFloat(string value) => types.TryGetValue(value, out int type) && type == ElementTypes.Float;
        bool IsExcluded(NodeProto node) => options.ExcludeOpTypes.Contains(node.OpType) || options.ExcludeNodes.Contains(node.Name);
        bool IsWeight(string value) =>
            index.Initializers.TryGetValue(value, out TensorProto? tensor) && !index.IsGraphInput(value) && tensor.DataType == ElementTypes.Float;

        List<NodeProto> weighted = [];
        List<string> skipped = [];
        foreach (NodeProto node in graph.Node)
        {
            if (!Opsets.IsDefaultDomain(node.Domain) || !options.OpTypes.Contains(node.OpType))
            {
                continue;
            }

            string? reason = IsExcluded(node) ? "excluded by option"
                : node.Input.Count < 2 ? "has no weight input"
                : !IsFloat(node.Input[0]) || index.IsInitializer(node.Input[0]) ? $"input '{node.Input[0]}' is not a float32 activation"
                : node.OpType == "MatMul" ? (IsWeight(node.Input[1]) || IsFloat(node.Input[1]) ? null : $"input '{node.Input[1]}' is not float32")
                : !IsWeight(node.Input[1]) ? $"weight '{node.Input[1]}' is not a constant float32 initializer"
                : null;
            if (reason is null)
            {
                weighted.Add(node);
            }
            else
            {
                skipped.Add($"{Describe(node)}: {reason}");
            }
        }

        if (weighted.Count == 0)
        {
            throw new OnnxModelException(
                $"no node can be quantized ({string.Join(", ", options.OpTypes)} with float32 weights): " +
                (skipped.Count == 0 ? "the model has none."
                    : string.Join("; ", skipped.Take(3)) + (skipped.Count > 3 ? $"; and {skipped.Count - 3} more" : ".")));
        }

        int folded = 0;
        if (options.Activations == ActivationQuantization.UInt8Asymmetric)
        {
            folded = FoldRelus(graph, index, weighted, IsExcluded);
            if (folded > 0)
            {
                index = new GraphIndex(graph);
            }
        }

        List<string> activations = [];
        HashSet<string> quantizedTensors = new(StringComparer.Ordinal);
        void Quantize(string tensor)
        {
            if (quantizedTensors.Add(tensor))
            {
                activations.Add(tensor);
            }
        }

        HashSet<NodeProto> weightedSet = new(weighted, ReferenceEqualityComparer.Instance);
        foreach (NodeProto node in weighted)
        {
            Quantize(node.Input[0]);
            if (node.OpType == "MatMul" && !IsWeight(node.Input[1]))
            {
                Quantize(node.Input[1]);
            }

            if (!index.IsGraphOutput(node.Output[0]))
            {
                Quantize(node.Output[0]);
            }
        }

        Dictionary<string, string> aliases = new(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            if (weightedSet.Contains(node) || !Opsets.IsDefaultDomain(node.Domain) ||
                !QuantizationOptions.PassThroughOpTypes.Contains(node.OpType) || IsExcluded(node))
            {
                continue;
            }

            List<string> dataInputs = node.OpType is "Concat" or "Add" ? [.. node.Input.Where(i => i.Length > 0)] : [node.Input[0]];
            string output = node.Output[0];
            bool eligible = dataInputs.Count > 0 && dataInputs.All(quantizedTensors.Contains) &&
                !index.IsGraphOutput(output) && IsFloat(output) &&
                !(node.OpType == "Add" && dataInputs.Count != 2) &&
                !(node.OpType == "Resize" && Attributes.GetString(node, "mode", "nearest") == "cubic");
            if (!eligible)
            {
                continue;
            }

            Quantize(output);
            if (s_sharedParameterOps.Contains(node.OpType))
            {
                aliases[output] = dataInputs[0];
            }
        }

        return new QuantizationPlan(model, working, options, weighted, activations, aliases, folded, skipped);
    }

    /// <summary>Rewrites the plan's model with calibrated <paramref name="ranges"/>. A plan can be applied once.</summary>
    /// <exception cref="OnnxModelException">A tensor in <see cref="QuantizationPlan.TensorsToCalibrate"/> has no range.</exception>
    /// <exception cref="InvalidOperationException">The plan was applied before.</exception>
    public static QuantizationResult Apply(QuantizationPlan plan, IReadOnlyDictionary<string, TensorRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(ranges);
        foreach (string tensor in plan.TensorsToCalibrate)
        {
            if (!ranges.ContainsKey(tensor))
            {
                throw new OnnxModelException($"no calibrated range for tensor '{tensor}'.");
            }
        }

        Rewriter rewriter = new(plan, ranges);
        return rewriter.Run();
    }

    private static int FoldRelus(GraphProto graph, GraphIndex index, List<NodeProto> weighted, Func<NodeProto, bool> isExcluded)
    {
        // With uint8 and a range starting at 0, QuantizeLinear saturates negatives to the zero point, which is
        // exactly Relu; dropping the Relu lets ONNX Runtime fuse the producer with its QuantizeLinear.
        int folded = 0;
        foreach (NodeProto node in weighted)
        {
            string output = node.Output[0];
            IReadOnlyList<NodeProto> consumers = index.Consumers(output);
            if (consumers.Count != 1 || consumers[0] is not { OpType: "Relu" } relu || !Opsets.IsDefaultDomain(relu.Domain) ||
                isExcluded(relu) || index.IsGraphOutput(output) || index.IsGraphOutput(relu.Output[0]))
            {
                continue;
            }

            node.Output[0] = relu.Output[0];
            graph.Node.Remove(relu);
            folded++;
        }

        return folded;
    }

    private static string Describe(NodeProto node) =>
        string.IsNullOrEmpty(node.Name) ? $"{node.OpType} -> {node.Output.FirstOrDefault()}" : $"{node.OpType} '{node.Name}'";

    private sealed class Rewriter
    {
        private readonly QuantizationPlan _plan;
        private readonly IReadOnlyDictionary<string, TensorRange> _ranges;
        private readonly GraphProto _graph;
        private readonly GraphIndex _index;
        private readonly UniqueNames _names;
        private readonly Dictionary<string, (QuantizationParameters Parameters, string Scale, string ZeroPoint)> _parameters = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Weight, int Axis), (string Output, float[] Scales)> _weights = [];
        private readonly List<TensorProto> _newInitializers = [];
        private readonly List<NodeProto> _prologue = [];
        private long _clampedBias;

        public Rewriter(QuantizationPlan plan, IReadOnlyDictionary<string, TensorRange> ranges)
        {
            if (plan.Working.Graph.Node.Any(node => node.OpType == "QuantizeLinear"))
            {
                throw new InvalidOperationException("this quantization plan has already been applied; make a new plan.");
            }

            _plan = plan;
            _ranges = ranges;
            _graph = plan.Working.Graph;
            _index = new GraphIndex(_graph);
            _names = new UniqueNames(_graph);
        }

        private bool PerTensorActivationsAreInt8 => _plan.Options.Activations == ActivationQuantization.Int8Symmetric;

        public QuantizationResult Run()
        {
            Dictionary<NodeProto, string> activationInputs = new(ReferenceEqualityComparer.Instance);
            foreach (NodeProto node in _plan.WeightedNodes)
            {
                activationInputs[node] = node.Input[0];
            }

            // One Q/DQ pair per tensor; every reader switches to the dequantized value, as ONNX Runtime's fusion
            // needs the producer's only consumer to be the QuantizeLinear.
            Dictionary<string, NodeProto[]> pairs = new(StringComparer.Ordinal);
            foreach (string tensor in _plan.Activations)
            {
                pairs[tensor] = QdqPair(tensor);
            }

            foreach (NodeProto node in _graph.Node)
            {
                for (int i = 0; i < node.Input.Count; i++)
                {
                    if (pairs.TryGetValue(node.Input[i], out NodeProto[]? pair))
                    {
                        node.Input[i] = pair[1].Output[0];
                    }
                }
            }

            foreach (NodeProto node in _plan.WeightedNodes)
            {
                QuantizeWeightAndBias(node, activationInputs[node]);
            }

            List<NodeProto> nodes = [.. _prologue];
            foreach (ValueInfoProto input in _graph.Input)
            {
                if (pairs.TryGetValue(input.Name, out NodeProto[]? pair))
                {
                    nodes.AddRange(pair);
                }
            }

            foreach (NodeProto node in _graph.Node)
            {
                nodes.Add(node);
                foreach (string output in node.Output)
                {
                    if (pairs.TryGetValue(output, out NodeProto[]? pair))
                    {
                        nodes.AddRange(pair);
                    }
                }
            }

            _graph.Node.Clear();
            _graph.Node.AddRange(nodes);
            _graph.Initializer.AddRange(_newInitializers);
            RemoveUnreferenced();

            _plan.Working.MetadataProps.Add(new StringStringEntryProto
            {
                Key = "edge_models.quantization",
                Value = $"QDQ; activations {(PerTensorActivationsAreInt8 ? "int8 symmetric" : "uint8 asymmetric")} per tensor; " +
                        $"weights int8 symmetric {(_plan.Options.PerChannelWeights ? "per channel" : "per tensor")}",
            });

            Dictionary<string, int> byOp = _plan.WeightedNodes
                .GroupBy(node => node.OpType, StringComparer.Ordinal)
                .ToDictionary(group => group.Key, group => group.Count(), StringComparer.Ordinal);
            return new QuantizationResult(_plan.Working, byOp, pairs.Count, _plan.FoldedRelus, _plan.Skipped, _clampedBias);
        }

        private (QuantizationParameters Parameters, string Scale, string ZeroPoint) Parameters(string tensor)
        {
            string root = _plan.Root(tensor);
            if (_parameters.TryGetValue(root, out (QuantizationParameters Parameters, string Scale, string ZeroPoint) existing))
            {
                return existing;
            }

            QuantizationParameters parameters = QuantizationParameters.For(_ranges[root], _plan.Options.Activations);
            string scale = _names.Claim(root + "_scale");
            string zeroPoint = _names.Claim(root + "_zero_point");
            _newInitializers.Add(TensorData.CreateFloat(scale, [], [parameters.Scale]));
            _newInitializers.Add(PerTensorActivationsAreInt8
                ? TensorData.CreateInt8(zeroPoint, [], [(sbyte)parameters.ZeroPoint])
                : TensorData.CreateUInt8(zeroPoint, [], [(byte)parameters.ZeroPoint]));
            _parameters[root] = (parameters, scale, zeroPoint);
            return _parameters[root];
        }

        private NodeProto[] QdqPair(string tensor)
        {
            (_, string scale, string zeroPoint) = Parameters(tensor);
            string quantized = _names.Claim(tensor + "_quantized");
            NodeProto quantize = new() { OpType = "QuantizeLinear", Name = _names.Claim(tensor + "_QuantizeLinear") };
            quantize.Input.Add([tensor, scale, zeroPoint]);
            quantize.Output.Add(quantized);
            NodeProto dequantize = new() { OpType = "DequantizeLinear", Name = _names.Claim(tensor + "_DequantizeLinear") };
            dequantize.Input.Add([quantized, scale, zeroPoint]);
            dequantize.Output.Add(_names.Claim(tensor + "_dequantized"));
            return [quantize, dequantize];
        }

        private void QuantizeWeightAndBias(NodeProto node, string activationInput)
        {
            string weightName = node.Input[1];
            if (!_index.Initializers.TryGetValue(weightName, out TensorProto? weight))
            {
                return;
            }

            int axis = ChannelAxis(node, weight);
            if (!_weights.TryGetValue((weightName, axis), out (string Output, float[] Scales) quantized))
            {
                quantized = QuantizeWeight(weight, axis);
                _weights[(weightName, axis)] = quantized;
            }

            node.Input[1] = quantized.Output;
            if (node.OpType != "MatMul" && node.Input.Count > 2 && node.Input[2].Length > 0 &&
                _index.Initializers.TryGetValue(node.Input[2], out TensorProto? bias) && bias.DataType == ElementTypes.Float &&
                bias.Dims.Count == 1 && (axis < 0 || bias.Dims[0] == quantized.Scales.Length))
            {
                node.Input[2] = QuantizeBias(bias, quantized.Scales, Parameters(activationInput).Parameters.Scale, axis >= 0);
            }
        }

        private int ChannelAxis(NodeProto node, TensorProto weight)
        {
            if (!_plan.Options.PerChannelWeights)
            {
                return -1;
            }

            return node.OpType switch
            {
                "Conv" => 0,
                // Weight [Cin, Cout/group, k...]: with groups, axis 1 would not index output channels.
                "ConvTranspose" => Attributes.GetInt(node, "group", 1) == 1 ? 1 : -1,
                "Gemm" => Attributes.GetInt(node, "transB", 0) != 0 ? 0 : 1,
                "MatMul" => weight.Dims.Count == 2 ? 1 : -1,
                _ => -1,
            };
        }

        private (string Output, float[] Scales) QuantizeWeight(TensorProto weight, int axis)
        {
            float[] values = TensorData.ReadFloats(weight);
            long[] dims = [.. weight.Dims];
            int channels = axis < 0 ? 1 : (int)dims[axis];
            long inner = axis < 0 ? values.Length : TensorData.ElementCount(dims[(axis + 1)..]);
            float[] amax = new float[channels];
            for (int i = 0; i < values.Length; i++)
            {
                int channel = (int)(i / inner % channels);
                amax[channel] = Math.Max(amax[channel], Math.Abs(values[i]));
            }

            // A channel pruned to zero keeps scale 1, so that bias scales (input x weight) stay non-zero.
            float[] scales = [.. amax.Select(a => a < MinimumRange ? 1f : a / 127f)];
            sbyte[] quantized = new sbyte[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                int channel = (int)(i / inner % channels);
                quantized[i] = (sbyte)Math.Clamp(Math.Round(values[i] / scales[channel], MidpointRounding.ToEven), -127, 127);
            }

            IReadOnlyList<long> parameterDims = axis < 0 ? [] : [channels];
            string quantizedName = _names.Claim(weight.Name + "_quantized");
            string scaleName = _names.Claim(weight.Name + "_scale");
            string zeroPointName = _names.Claim(weight.Name + "_zero_point");
            _newInitializers.Add(TensorData.CreateInt8(quantizedName, dims, quantized));
            _newInitializers.Add(TensorData.CreateFloat(scaleName, parameterDims, scales));
            _newInitializers.Add(TensorData.CreateInt8(zeroPointName, parameterDims, new sbyte[channels]));
            return (Dequantize(weight.Name, quantizedName, scaleName, zeroPointName, axis), scales);
        }

        private string QuantizeBias(TensorProto bias, float[] weightScales, float inputScale, bool perChannel)
        {
            float[] values = TensorData.ReadFloats(bias);
            float[] scales = new float[perChannel ? values.Length : 1];
            for (int c = 0; c < scales.Length; c++)
            {
                scales[c] = inputScale * weightScales[perChannel ? c : 0];
            }

            int[] quantized = new int[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                double q = Math.Round(values[i] / (double)scales[perChannel ? i : 0], MidpointRounding.ToEven);
                if (q is > int.MaxValue or < int.MinValue)
                {
                    _clampedBias++;
                }

                quantized[i] = (int)Math.Clamp(q, int.MinValue, int.MaxValue);
            }

            IReadOnlyList<long> parameterDims = perChannel ? [scales.Length] : [];
            string quantizedName = _names.Claim(bias.Name + "_quantized");
            string scaleName = _names.Claim(bias.Name + "_scale");
            string zeroPointName = _names.Claim(bias.Name + "_zero_point");
            _newInitializers.Add(TensorData.CreateInt32(quantizedName, [.. bias.Dims], quantized));
            _newInitializers.Add(TensorData.CreateFloat(scaleName, parameterDims, scales));
            _newInitializers.Add(TensorData.CreateInt32(zeroPointName, parameterDims, new int[scales.Length]));
            return Dequantize(bias.Name, quantizedName, scaleName, zeroPointName, perChannel ? 0 : -1);
        }

        private string Dequantize(string original, string quantized, string scale, string zeroPoint, int axis)
        {
            NodeProto dequantize = new() { OpType = "DequantizeLinear", Name = _names.Claim(original + "_DequantizeLinear") };
            dequantize.Input.Add([quantized, scale, zeroPoint]);
            string output = _names.Claim(original + "_dequantized");
            dequantize.Output.Add(output);
            if (axis >= 0)
            {
                dequantize.Attribute.Add(Attributes.Int("axis", axis));
            }

            _prologue.Add(dequantize);
            return output;
        }

        private void RemoveUnreferenced()
        {
            HashSet<string> referenced = new(StringComparer.Ordinal);
            foreach (NodeProto node in _graph.Node)
            {
                referenced.UnionWith(node.Input);
                referenced.UnionWith(node.Output);
            }

            referenced.UnionWith(_graph.Output.Select(output => output.Name));
            List<TensorProto> unused = [.. _graph.Initializer.Where(initializer => !referenced.Contains(initializer.Name))];
            foreach (TensorProto initializer in unused)
            {
                _graph.Initializer.Remove(initializer);
            }

            HashSet<string> removed = new(unused.Select(initializer => initializer.Name), StringComparer.Ordinal);
            List<ValueInfoProto> staleInputs = [.. _graph.Input.Where(input => removed.Contains(input.Name))];
            foreach (ValueInfoProto input in staleInputs)
            {
                _graph.Input.Remove(input);
            }

            referenced.UnionWith(_graph.Input.Select(input => input.Name));
            List<ValueInfoProto> staleInfo = [.. _graph.ValueInfo.Where(info => !referenced.Contains(info.Name))];
            foreach (ValueInfoProto info in staleInfo)
            {
                _graph.ValueInfo.Remove(info);
            }
        }
    }
}
