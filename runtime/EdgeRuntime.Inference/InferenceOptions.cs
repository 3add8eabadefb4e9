namespace EdgeRuntime.Inference;

/// <summary>
/// The <c>Inference</c> section: which execution providers to try and how ONNX Runtime runs the model. Validated at
/// start-up by <see cref="InferenceOptionsValidator"/>; read once per model load, so a change applies to the next load.
/// </summary>
public sealed class InferenceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Inference";

    /// <summary>The provider chain used when <see cref="Providers"/> is not configured.</summary>
    public static IReadOnlyList<string> DefaultProviders { get; } = ["tensorrt", "cuda", "cpu"];

    /// <summary>
    /// Execution providers in order of preference (<c>tensorrt</c>, <c>cuda</c>, <c>cpu</c>); the first that can run
    /// the model runs it and the later ones take the operators it cannot. <c>cpu</c>, when listed, must be last; when
    /// it is left out, a device where no listed provider works refuses the model instead of running it slowly.
    /// Null means <see cref="DefaultProviders"/>.
    /// </summary>
    /// <remarks>
    /// Null rather than a default array because the configuration binder appends configured elements to an
    /// existing array instead of replacing it.
    /// </remarks>
    public string[]? Providers { get; set; }

    /// <summary>Threads one inference may use (intra-op parallelism); 0 lets ONNX Runtime use one per physical core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Threads for running independent graph branches in parallel; 0 lets ONNX Runtime decide.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>How much ONNX Runtime rewrites the graph before running it.</summary>
    public GraphOptimization GraphOptimizationLevel { get; set; } = GraphOptimization.All;

    /// <summary>Plan tensor memory once per input shape and reuse the plan (fixed shapes make this pay off).</summary>
    public bool EnableMemoryPattern { get; set; } = true;

    /// <summary>Keep a CPU memory arena across runs instead of returning memory to the system after each run.</summary>
    public bool EnableCpuMemArena { get; set; } = true;

    /// <summary>
    /// Most tiles one <c>Run</c> call feeds a model whose batch dimension is dynamic; frames with more tiles run in
    /// chunks. Also the largest batch of the TensorRT optimisation profile. Ignored for models with a fixed batch.
    /// </summary>
    public int MaxBatch { get; set; } = 16;

    /// <summary>Inferences run on a freshly loaded model before it is reported ready.</summary>
    public int WarmupRuns { get; set; } = 1;

    /// <summary>TensorRT execution provider settings.</summary>
    public TensorRtOptions TensorRt { get; set; } = new();

    /// <summary>CUDA execution provider settings; <see cref="CudaOptions.DeviceId"/> also selects TensorRT's GPU.</summary>
    public CudaOptions Cuda { get; set; } = new();

    /// <summary>The configured chain, or <see cref="DefaultProviders"/> when none is configured.</summary>
    public IReadOnlyList<string> GetProviderChain() => Providers ?? DefaultProviders;
}

/// <summary>The <c>Inference:TensorRt</c> section. FP16 and INT8 are not configured here: they follow the model's precision.</summary>
public sealed class TensorRtOptions
{
    /// <summary>
    /// Where built engines are kept, one folder per cache key (model hash, precision, input shape, ONNX Runtime and
    /// TensorRT versions, GPU, build settings). A relative path is under <c>Pipeline:StateDirectory</c>.
    /// </summary>
    public string EngineCacheDirectory { get; set; } = "tensorrt/engines";

    /// <summary>Cache built engines so the next start loads in seconds instead of building for minutes.</summary>
    public bool EnableEngineCache { get; set; } = true;

    /// <summary>Keep TensorRT's layer timing cache (shared by all models on the same GPU and TensorRT version).</summary>
    public bool EnableTimingCache { get; set; } = true;

    /// <summary>Where the timing cache lives, one folder per GPU and TensorRT version; relative to <c>Pipeline:StateDirectory</c>.</summary>
    public string TimingCacheDirectory { get; set; } = "tensorrt/timing";

    /// <summary>Scratch memory TensorRT may use while building and running, in bytes; 0 leaves TensorRT's default.</summary>
    public long WorkspaceBytes { get; set; } = 1L << 30;

    /// <summary>Run on this Deep Learning Accelerator core (Jetson AGX/NX Orin: 0 or 1) instead of the GPU; null for the GPU.</summary>
    public int? DlaCore { get; set; }

    /// <summary>TensorRT builder optimisation level 0-5: higher builds longer and may run faster. 3 is TensorRT's default.</summary>
    public int BuilderOptimizationLevel { get; set; } = 3;
}

/// <summary>The <c>Inference:Cuda</c> section.</summary>
public sealed class CudaOptions
{
    /// <summary>The GPU (CUDA device ordinal) for CUDA and TensorRT.</summary>
    public int DeviceId { get; set; }

    /// <summary>How the CUDA memory arena grows. SameAsRequested wastes less of a Jetson's shared memory.</summary>
    public CudaArenaExtendStrategy ArenaExtendStrategy { get; set; } = CudaArenaExtendStrategy.SameAsRequested;

    /// <summary>How cuDNN picks convolution algorithms. Exhaustive costs time once per shape; shapes here are fixed.</summary>
    public CudnnConvAlgorithmSearch CudnnConvAlgoSearch { get; set; } = CudnnConvAlgorithmSearch.Exhaustive;

    /// <summary>Most GPU memory the CUDA arena may hold, in bytes; 0 for no limit.</summary>
    public long GpuMemoryLimitBytes { get; set; }
}

/// <summary>ONNX Runtime graph optimisation levels.</summary>
public enum GraphOptimization
{
    /// <summary>No graph rewrites.</summary>
    Disabled,

    /// <summary>Semantics-preserving rewrites such as constant folding and redundant node removal.</summary>
    Basic,

    /// <summary>Basic plus node fusions.</summary>
    Extended,

    /// <summary>Everything, including layout optimisations.</summary>
    All,
}

/// <summary>How ONNX Runtime's CUDA arena grows when it runs out.</summary>
public enum CudaArenaExtendStrategy
{
    /// <summary>Double the arena (fewer allocations, more memory held).</summary>
    NextPowerOfTwo,

    /// <summary>Grow by what was asked for.</summary>
    SameAsRequested,
}

/// <summary>How cuDNN chooses convolution algorithms.</summary>
public enum CudnnConvAlgorithmSearch
{
    /// <summary>Benchmark every algorithm once per shape and keep the fastest.</summary>
    Exhaustive,

    /// <summary>Use cuDNN's heuristics without benchmarking.</summary>
    Heuristic,

    /// <summary>Always use cuDNN's default algorithm.</summary>
    Default,
}
