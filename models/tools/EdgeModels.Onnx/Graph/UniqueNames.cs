using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Graph;

/// <summary>
/// Hands out value and node names that do not collide with any name already in a graph or handed out before.
/// </summary>
/// <remarks>Not thread-safe; one instance per transform.</remarks>
public sealed class UniqueNames
{
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    public UniqueNames(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        foreach (TensorProto initializer in graph.Initializer)
        {
            _taken.Add(initializer.Name);
        }

        foreach (ValueInfoProto value in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo))
        {
            _taken.Add(value.Name);
        }

        foreach (NodeProto node in graph.Node)
        {
            _taken.Add(node.Name);
            _taken.UnionWith(node.Input);
            _taken.UnionWith(node.Output);
        }
    }

    /// <summary><paramref name="preferred"/> when free, otherwise <c>preferred_2</c>, <c>preferred_3</c>, ...</summary>
    public string Claim(string preferred)
    {
        ArgumentNullException.ThrowIfNull(preferred);
        string candidate = preferred;
        for (int suffix = 2; !_taken.Add(candidate); suffix++)
        {
            candidate = $"{preferred}_{suffix}";
        }

        return candidate;
    }
}
