namespace EdgeRuntime.Inference.Providers;

/// <summary>The ONNX Runtime execution providers the runtime knows how to configure.</summary>
public enum ExecutionProviderKind
{
    /// <summary>NVIDIA TensorRT: the whole model compiled into an engine, FP16/INT8 by the model's precision.</summary>
    TensorRt,

    /// <summary>NVIDIA CUDA and cuDNN kernels, operator by operator.</summary>
    Cuda,

    /// <summary>ONNX Runtime's own CPU kernels; runs every operator.</summary>
    Cpu,
}

/// <summary>Configuration names and display names of <see cref="ExecutionProviderKind"/>.</summary>
public static class ExecutionProviderNames
{
    /// <summary>The names accepted in <c>Inference:Providers</c>, in the default order.</summary>
    public static IReadOnlyList<string> ConfigurationNames { get; } = ["tensorrt", "cuda", "cpu"];

    /// <summary>Parses a configuration name (case-insensitive).</summary>
    public static bool TryParse(string? name, out ExecutionProviderKind kind)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "tensorrt":
                kind = ExecutionProviderKind.TensorRt;
                return true;
            case "cuda":
                kind = ExecutionProviderKind.Cuda;
                return true;
            case "cpu":
                kind = ExecutionProviderKind.Cpu;
                return true;
            default:
                kind = default;
                return false;
        }
    }

    /// <summary>The name used in logs, health and <see cref="Core.Inspection.ModelIdentity.ExecutionProvider"/>: TensorRT, CUDA or CPU.</summary>
    public static string DisplayName(this ExecutionProviderKind kind) => kind switch
    {
        ExecutionProviderKind.TensorRt => "TensorRT",
        ExecutionProviderKind.Cuda => "CUDA",
        ExecutionProviderKind.Cpu => "CPU",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
