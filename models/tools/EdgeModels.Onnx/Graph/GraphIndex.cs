using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Graph;

/// <summary>
/// Lookup tables over one <see cref="GraphProto"/>: which node produces a value, which nodes consume it,
/// initializers, constants, graph inputs and outputs.
/// </summary>
/// <remarks>
/// A snapshot taken at construction: a transform that changes the graph builds a new index afterwards.
/// Subgraphs (If/Loop/Scan bodies) are not indexed. Not thread-safe while the graph is being changed.
/// </remarks>
public sealed class GraphIndex
{
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> _initializers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphInputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs = new(StringComparer.Ordinal);

    public GraphIndex(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        Graph = graph;
        foreach (TensorProto initializer in graph.Initializer)
        {
            _initializers[initializer.Name] = initializer;
        }

        foreach (ValueInfoProto input in graph.Input)
        {
            _graphInputs.Add(input.Name);
        }

        foreach (ValueInfoProto output in graph.Output)
        {
            _graphOutputs.Add(output.Name);
        }

        foreach (NodeProto node in graph.Node)
        {
            foreach (string output in node.Output)
            {
                if (output.Length > 0)
                {
                    _producers[output] = node;
                }
            }

            foreach (string input in node.Input)
            {
                if (input.Length == 0)
                {
                    continue;
                }

                if (!_consumers.TryGetValue(input, out List<NodeProto>? list))
                {
                    list = [];
                    _consumers[input] = list;
                }

                // A node that reads a value twice (Mul(x, x)) is one consumer.
                if (list.Count == 0 || !ReferenceEquals(list[^1], node))
                {
                    list.Add(node);
                }
            }
        }
    }

    public GraphProto Graph { get; }

    public IReadOnlyDictionary<string, TensorProto> Initializers => _initializers;

    /// <summary>Graph inputs the caller feeds: declared inputs that are not also initializers (IR &lt; 4 lists both).</summary>
    public IEnumerable<ValueInfoProto> FedInputs => Graph.Input.Where(input => !_initializers.ContainsKey(input.Name));

    public NodeProto? Producer(string value) => _producers.GetValueOrDefault(value);

    public IReadOnlyList<NodeProto> Consumers(string value) =>
        _consumers.TryGetValue(value, out List<NodeProto>? list) ? list : [];

    public bool IsGraphInput(string value) => _graphInputs.Contains(value);

    public bool IsGraphOutput(string value) => _graphOutputs.Contains(value);

    public bool IsInitializer(string value) => _initializers.ContainsKey(value);

    /// <summary>
    /// The constant value of <paramref name="value"/>: an initializer that is not also a graph input (which the
    /// caller could override), or the tensor of a <c>Constant</c> node.
    /// </summary>
    public bool TryGetConstant(string value, out TensorProto tensor)
    {
        if (_initializers.TryGetValue(value, out TensorProto? initializer) && !_graphInputs.Contains(value))
        {
            tensor = initializer;
            return true;
        }

        if (_producers.TryGetValue(value, out NodeProto? producer) && producer.OpType == "Constant" &&
            Opsets.IsDefaultDomain(producer.Domain) && ConstantNodeTensor(producer) is { } constant)
        {
            tensor = constant;
            return true;
        }

        tensor = null!;
        return false;
    }

    /// <summary>The value of a <c>Constant</c> node as a tensor, whichever attribute carries it; null for sparse constants.</summary>
    public static TensorProto? ConstantNodeTensor(NodeProto constant)
    {
        ArgumentNullException.ThrowIfNull(constant);
        foreach (AttributeProto attribute in constant.Attribute)
        {
            switch (attribute.Name)
            {
                case "value":
                    return attribute.T;
                case "value_float":
                    return TensorData.CreateFloat(constant.Output[0], [], [attribute.F]);
                case "value_floats":
                    return TensorData.CreateFloat(constant.Output[0], [attribute.Floats.Count], [.. attribute.Floats]);
                case "value_int":
                    return TensorData.CreateInt64(constant.Output[0], [], [attribute.I]);
                case "value_ints":
                    return TensorData.CreateInt64(constant.Output[0], [attribute.Ints.Count], [.. attribute.Ints]);
                default:
                    break;
            }
        }

        return null;
    }
}
