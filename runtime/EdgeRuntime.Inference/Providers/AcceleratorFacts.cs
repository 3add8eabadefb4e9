namespace EdgeRuntime.Inference.Providers;

/// <summary>
/// Versions and hardware that decide whether a cached TensorRT engine still fits. Immutable.
/// </summary>
/// <param name="OnnxRuntimeVersion">ONNX Runtime's version, e.g. <c>1.31.1</c>.</param>
/// <param name="TensorRtVersion">TensorRT's version (<c>10.3.0</c>), or null when libnvinfer cannot be loaded.</param>
/// <param name="GpuName">The GPU's name, compute capability and multiprocessor count, or null without a usable CUDA driver.</param>
public sealed record AcceleratorFacts(string OnnxRuntimeVersion, string? TensorRtVersion, string? GpuName);

/// <summary>Finds out which ONNX Runtime, TensorRT and GPU this process would use. Implementations are thread-safe.</summary>
public interface IAcceleratorProbe
{
    /// <summary>Probes the libraries and the GPU with CUDA ordinal <paramref name="deviceId"/>; never throws for a missing library or GPU.</summary>
    AcceleratorFacts Probe(int deviceId);
}
