using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Conversion;

/// <summary>
/// Converts a float32 model to float16: initializers and the tensors between converted nodes become float16,
/// graph inputs and outputs stay float32, and numerically sensitive operators stay float32 with Cast nodes
/// at every boundary between the two precisions.
/// </summary>
/// <remarks>
/// The graph must be topologically sorted (as the ONNX spec requires). Control flow (If, Loop, Scan) is
/// refused rather than converted half-way. Nodes outside the default domain, and nodes whose tensor types
/// cannot be inferred, stay float32. Stateless and thread-safe; the input model is not modified.
/// </remarks>
public static class Float16Converter
{
    private const float Float16Max = 65504f;

    // Operators whose output type is chosen by an attribute, or that are already integer arithmetic: converting
    // them would need attribute rewrites that change what they compute.
    private static readonly HashSet<string> s_alwaysFloat32 = new(StringComparer.Ordinal)
    {
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "ConstantOfShape", "RandomNormal",
        "RandomUniform", "RandomNormalLike", "RandomUniformLike", "EyeLike", "Multinomial", "Bernoulli",
        "NonMaxSuppression", "TfIdfVectorizer",
    };

    // Inputs the ONNX spec types as float32 (or as an independent type) even when the data input is float16.
    private static readonly Dictionary<string, int[]> s_float32Inputs = new(StringComparer.Ordinal)
    {
        ["Resize"] = [1, 2],
        ["Upsample"] = [1],
    };

    private enum Precision
    {
        Float32,
        Float16,
    }

    /// <summary>Converts <paramref name="model"/>; see the type remarks for what stays float32.</summary>
    /// <exception cref="OnnxModelException">The model holds control flow, or is not a float32 model.</exception>
    public static Float16ConversionResult Convert(ModelProto model, Float16ConversionOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ModelProto converted = model.Clone();
        Converter converter = new(converted.Graph, options);
        return converter.Run(converted);
    }

    private sealed class Converter
    {
        private readonly GraphProto _graph;
        private readonly Float16ConversionOptions _options;
        private readonly GraphIndex _index;
        private readonly Dictionary<string, int> _types;
        private readonly UniqueNames _names;
        private readonly HashSet<NodeProto> _convertedNodes = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, Precision> _home = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Value, Precision To), string> _casts = [];
        private readonly Dictionary<string, string> _float16Initializers = new(StringComparer.Ordinal);
        private readonly HashSet<NodeProto> _outputCasts = new(ReferenceEqualityComparer.Instance);
        private int _castsInserted;
        private int _convertedInitializers;
        private long _clampedValues;

        public Converter(GraphProto graph, Float16ConversionOptions options)
        {
            _graph = graph;
            _options = options;
            foreach (NodeProto node in graph.Node)
            {
                if (node.OpType is "If" or "Loop" or "Scan" || node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0))
                {
                    throw new OnnxModelException(
                        $"node '{node.Name}' ({node.OpType}) holds a subgraph; float16 conversion of control flow is not supported.");
                }
            }

            _index = new GraphIndex(graph);
            _types = ElementTypeInference.Run(graph);
            _names = new UniqueNames(graph);
        }

        public Float16ConversionResult Run(ModelProto model)
        {
            if (!_types.Values.Contains(ElementTypes.Float))
            {
                throw new OnnxModelException("the model has no float32 tensors to convert (is it already float16 or quantized?).");
            }

            ClassifyNodes();
            ConvertInitializers();
            AssignHomePrecision();
            RedirectFloat16GraphOutputs();
            RewireAndRewrite();
            UpdateValueInfo();

            Dictionary<string, int> kept = new(StringComparer.Ordinal);
            foreach (NodeProto node in _graph.Node)
            {
                if (!_convertedNodes.Contains(node) && node.OpType != "Cast" && TouchesFloat(node))
                {
                    string op = Opsets.QualifiedOpType(node);
                    kept[op] = kept.GetValueOrDefault(op) + 1;
                }
            }

            return new Float16ConversionResult(model, _convertedNodes.Count, kept, _convertedInitializers, _castsInserted, _clampedValues);
        }

        private bool IsFloat(string value) =>
            value.Length > 0 && _types.TryGetValue(value, out int type) && type == ElementTypes.Float;

        private bool TouchesFloat(NodeProto node) => node.Input.Any(IsFloat) || node.Output.Any(IsFloat);

        private void ClassifyNodes()
        {
            // Float values computed from integers (exported size arithmetic: Shape -> Cast -> Mul -> Cast) stay
            // float32: float16 holds integers exactly only up to 2048.
            HashSet<string> sizeArithmetic = new(StringComparer.Ordinal);
            foreach (NodeProto node in _graph.Node)
            {
                if (IsSizeArithmetic(node, sizeArithmetic))
                {
                    sizeArithmetic.UnionWith(node.Output.Where(IsFloat));
                }
                else if (node.OpType != "Constant" && CanConvert(node))
                {
                    _convertedNodes.Add(node);
                }
            }

            // A float constant follows its readers: float16 when every reader wants float16.
            foreach (NodeProto node in _graph.Node)
            {
                if (node.OpType == "Constant" && Opsets.IsDefaultDomain(node.Domain) && IsFloat(node.Output[0]) &&
                    !_index.IsGraphOutput(node.Output[0]) && !_options.KeepFloat32Nodes.Contains(node.Name) &&
                    Uses(node.Output[0]).All(use => Required(use.Node, use.Input) == Precision.Float16) &&
                    _index.Consumers(node.Output[0]).Count > 0)
                {
                    _convertedNodes.Add(node);
                }
            }
        }

        private bool IsSizeArithmetic(NodeProto node, HashSet<string> sizeArithmetic)
        {
            if (node.OpType == "Cast")
            {
                return (!IsFloat(node.Input[0]) && IsFloat(node.Output[0])) || sizeArithmetic.Contains(node.Input[0]);
            }

            bool fromSizes = false;
            foreach (string input in node.Input)
            {
                if (!IsFloat(input) || _index.TryGetConstant(input, out _))
                {
                    continue;
                }

                if (!sizeArithmetic.Contains(input))
                {
                    return false;
                }

                fromSizes = true;
            }

            return fromSizes;
        }

        private bool CanConvert(NodeProto node)
        {
            if (!Opsets.IsDefaultDomain(node.Domain) || s_alwaysFloat32.Contains(node.OpType) ||
                _options.KeepFloat32Ops.Contains(node.OpType) || _options.KeepFloat32Nodes.Contains(node.Name))
            {
                return false;
            }

            // Every tensor must have a known type, or the node's float-ness is a guess.
            foreach (string value in node.Input.Concat(node.Output))
            {
                if (value.Length > 0 && !_types.ContainsKey(value))
                {
                    return false;
                }
            }

            return TouchesFloat(node);
        }

        private IEnumerable<(NodeProto Node, int Input)> Uses(string value)
        {
            foreach (NodeProto consumer in _index.Consumers(value))
            {
                for (int i = 0; i < consumer.Input.Count; i++)
                {
                    if (consumer.Input[i] == value)
                    {
                        yield return (consumer, i);
                    }
                }
            }
        }

        private Precision Required(NodeProto node, int input) =>
            _convertedNodes.Contains(node) &&
            !(s_float32Inputs.TryGetValue(node.OpType, out int[]? float32Inputs) && float32Inputs.Contains(input))
                ? Precision.Float16
                : Precision.Float32;

        private void ConvertInitializers()
        {
            List<TensorProto> added = [];
            foreach (TensorProto initializer in _graph.Initializer)
            {
                // An initializer that is also a graph input can be overridden by the caller with float32 data.
                if (initializer.DataType != ElementTypes.Float || _index.IsGraphInput(initializer.Name))
                {
                    continue;
                }

                bool wantsHalf = false;
                bool wantsFloat = _index.IsGraphOutput(initializer.Name);
                foreach ((NodeProto node, int input) in Uses(initializer.Name))
                {
                    if (Required(node, input) == Precision.Float16)
                    {
                        wantsHalf = true;
                    }
                    else
                    {
                        wantsFloat = true;
                    }
                }

                if (!wantsHalf)
                {
                    continue;
                }

                TensorProto half = ToFloat16(initializer, wantsFloat ? _names.Claim(initializer.Name + "_fp16") : initializer.Name);
                _convertedInitializers++;
                if (wantsFloat)
                {
                    added.Add(half);
                    _float16Initializers[initializer.Name] = half.Name;
                }
                else
                {
                    initializer.FloatData.Clear();
                    initializer.RawData = half.RawData;
                    initializer.DataType = ElementTypes.Float16;
                    _home[initializer.Name] = Precision.Float16;
                }
            }

            _graph.Initializer.AddRange(added);
        }

        private TensorProto ToFloat16(TensorProto tensor, string name)
        {
            float[] values = TensorData.ReadFloats(tensor);
            Half[] halves = new Half[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                float value = values[i];
                if (Math.Abs(value) > Float16Max && !float.IsInfinity(value) && !float.IsNaN(value))
                {
                    value = Math.Clamp(value, -Float16Max, Float16Max);
                    _clampedValues++;
                }

                halves[i] = (Half)value;
            }

            TensorProto half = TensorData.CreateFloat16(name, [.. tensor.Dims], halves);
            half.DocString = tensor.DocString;
            return half;
        }

        private void AssignHomePrecision()
        {
            foreach (NodeProto node in _graph.Node)
            {
                Precision precision = _convertedNodes.Contains(node) ? Precision.Float16 : Precision.Float32;
                foreach (string output in node.Output)
                {
                    if (IsFloat(output))
                    {
                        _home[output] = precision;
                    }
                }
            }
        }

        private Precision Home(string value) => _home.GetValueOrDefault(value, Precision.Float32);

        private void RedirectFloat16GraphOutputs()
        {
            // The graph's contract stays float32: a float16 producer writes to a new name and a Cast restores the original.
            List<NodeProto> nodes = [.. _graph.Node];
            foreach (ValueInfoProto output in _graph.Output)
            {
                string name = output.Name;
                if (!IsFloat(name) || Home(name) != Precision.Float16 || _index.Producer(name) is not { } producer)
                {
                    continue;
                }

                string internalName = _names.Claim(name + "_fp16");
                for (int i = 0; i < producer.Output.Count; i++)
                {
                    if (producer.Output[i] == name)
                    {
                        producer.Output[i] = internalName;
                    }
                }

                foreach (NodeProto consumer in _index.Consumers(name))
                {
                    for (int i = 0; i < consumer.Input.Count; i++)
                    {
                        if (consumer.Input[i] == name)
                        {
                            consumer.Input[i] = internalName;
                        }
                    }
                }

                _types[internalName] = ElementTypes.Float;
                _home[internalName] = Precision.Float16;
                _home[name] = Precision.Float32;
                NodeProto cast = CastNode(internalName, name, ElementTypes.Float);
                _outputCasts.Add(cast);
                nodes.Insert(nodes.IndexOf(producer) + 1, cast);

                // Float32 readers of the output read the restored value instead of casting it a second time.
                _casts[(internalName, Precision.Float32)] = name;
            }

            _graph.Node.Clear();
            _graph.Node.AddRange(nodes);
        }

        private void RewireAndRewrite()
        {
            List<NodeProto> nodes = [];
            foreach (NodeProto node in _graph.Node)
            {
                if (_outputCasts.Contains(node))
                {
                    nodes.Add(node);
                    continue;
                }

                for (int i = 0; i < node.Input.Count; i++)
                {
                    string value = node.Input[i];
                    if (!IsFloat(value))
                    {
                        continue;
                    }

                    Precision required = Required(node, i);
                    if (required == Precision.Float16 && _float16Initializers.TryGetValue(value, out string? halfName))
                    {
                        node.Input[i] = halfName;
                    }
                    else if (Home(value) != required)
                    {
                        node.Input[i] = CastOf(value, required, nodes);
                    }
                }

                if (_convertedNodes.Contains(node))
                {
                    RewriteConvertedNode(node);
                }

                nodes.Add(node);
            }

            _graph.Node.Clear();
            _graph.Node.AddRange(nodes);
        }

        private string CastOf(string value, Precision to, List<NodeProto> nodes)
        {
            if (_casts.TryGetValue((value, to), out string? existing))
            {
                return existing;
            }

            // Emitted just before its first reader, which is after the value's producer in a sorted graph.
            string name = _names.Claim(value + (to == Precision.Float16 ? "_to_fp16" : "_to_fp32"));
            nodes.Add(CastNode(value, name, to == Precision.Float16 ? ElementTypes.Float16 : ElementTypes.Float));
            _casts[(value, to)] = name;
            return name;
        }

        private NodeProto CastNode(string input, string output, int to)
        {
            _castsInserted++;
            NodeProto cast = new() { OpType = "Cast", Name = _names.Claim(output + "_Cast") };
            cast.Input.Add(input);
            cast.Output.Add(output);
            cast.Attribute.Add(Attributes.Int("to", to));
            return cast;
        }

        private void RewriteConvertedNode(NodeProto node)
        {
            if (node.OpType == "Cast" && Attributes.GetInt(node, "to", 0) == ElementTypes.Float)
            {
                Attributes.SetInt(node, "to", ElementTypes.Float16);
            }
            else if (node.OpType == "Constant" && GraphIndex.ConstantNodeTensor(node) is { } constant)
            {
                node.Attribute.Clear();
                node.Attribute.Add(Attributes.Tensor("value", ToFloat16(constant, constant.Name)));
            }
        }

        private void UpdateValueInfo()
        {
            foreach (ValueInfoProto info in _graph.ValueInfo)
            {
                if (info.Type?.TensorType is { } tensor && tensor.ElemType == ElementTypes.Float && Home(info.Name) == Precision.Float16)
                {
                    tensor.ElemType = ElementTypes.Float16;
                }
            }
        }
    }
}
