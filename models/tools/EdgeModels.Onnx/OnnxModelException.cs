namespace EdgeModels.Onnx;

/// <summary>
/// A model cannot be read, or a transform cannot be applied to it. The message names the file, node, tensor or
/// option at fault and, where one exists, what would be accepted instead.
/// </summary>
public sealed class OnnxModelException : Exception
{
    public OnnxModelException()
    {
    }

    public OnnxModelException(string message)
        : base(message)
    {
    }

    public OnnxModelException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
