using EdgeModels.Onnx.Protos;
using Google.Protobuf;

namespace EdgeModels.Onnx.Graph;

/// <summary>Typed access to node attributes and factories for new ones. Stateless and thread-safe.</summary>
public static class Attributes
{
    /// <summary>The attribute called <paramref name="name"/>, or <see langword="null"/>.</summary>
    public static AttributeProto? Find(NodeProto node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        foreach (AttributeProto attribute in node.Attribute)
        {
            if (attribute.Name == name)
            {
                return attribute;
            }
        }

        return null;
    }

    public static long GetInt(NodeProto node, string name, long defaultValue) =>
        Find(node, name) is { } attribute ? attribute.I : defaultValue;

    public static float GetFloat(NodeProto node, string name, float defaultValue) =>
        Find(node, name) is { } attribute ? attribute.F : defaultValue;

    public static string GetString(NodeProto node, string name, string defaultValue) =>
        Find(node, name) is { } attribute ? attribute.S.ToStringUtf8() : defaultValue;

    /// <summary>The integer list called <paramref name="name"/>, or <see langword="null"/> when absent.</summary>
    public static long[]? GetInts(NodeProto node, string name) =>
        Find(node, name) is { } attribute ? [.. attribute.Ints] : null;

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        AttributeProto attribute = new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Tensor(string name, TensorProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    /// <summary>Replaces or adds an integer attribute.</summary>
    public static void SetInt(NodeProto node, string name, long value)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (Find(node, name) is { } existing)
        {
            node.Attribute.Remove(existing);
        }

        node.Attribute.Add(Int(name, value));
    }
}
