using EdgeModels.Onnx.Protos;

namespace EdgeModels.Onnx.Graph;

/// <summary>Operator-set questions about a model. Stateless and thread-safe.</summary>
public static class Opsets
{
    /// <summary>True for the default ONNX domain, which a node or opset import spells "" or "ai.onnx".</summary>
    public static bool IsDefaultDomain(string? domain) => string.IsNullOrEmpty(domain) || domain == "ai.onnx";

    /// <summary>The imported version of the default ONNX operator set, 0 when the model imports none.</summary>
    public static long DefaultOpset(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (OperatorSetIdProto import in model.OpsetImport)
        {
            if (IsDefaultDomain(import.Domain))
            {
                return import.Version;
            }
        }

        return 0;
    }

    /// <summary>"Conv" for the default domain, "com.microsoft.QLinearConv" for others.</summary>
    public static string QualifiedOpType(NodeProto node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return IsDefaultDomain(node.Domain) ? node.OpType : $"{node.Domain}.{node.OpType}";
    }
}
