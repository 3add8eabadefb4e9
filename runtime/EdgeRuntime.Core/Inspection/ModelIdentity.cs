namespace EdgeRuntime.Core.Inspection;

/// <summary>Which model judged a frame and where it ran. Immutable; one instance per loaded model.</summary>
/// <param name="Id">Model id from the manifest.</param>
/// <param name="Version">Semantic version from the manifest.</param>
/// <param name="Precision">fp32, fp16 or int8.</param>
/// <param name="ExecutionProvider">The ONNX Runtime execution provider that runs it (TensorRT, CUDA, CPU).</param>
/// <param name="Sha256">Hash of the ONNX file.</param>
public sealed record ModelIdentity(string Id, string Version, string Precision, string ExecutionProvider, string Sha256)
{
    /// <summary>Stands in for the model when a trigger never reached one (dropped before inference).</summary>
    public static ModelIdentity None { get; } = new("none", "0.0.0", "none", "none", string.Empty);
}
