using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Inference.Providers;

/// <summary>
/// Maps <see cref="InferenceOptions"/>, the model and the environment onto ONNX Runtime's session and provider
/// options. The one place where configuration becomes ONNX Runtime option strings; pure, so every mapping is tested
/// without a GPU.
/// </summary>
public static class ProviderPlanner
{
    /// <summary>ONNX Runtime's spelling of true/false in provider options.</summary>
    private const string On = "1";
    private const string Off = "0";

    /// <summary>Plans the session for <paramref name="manifest"/>'s model.</summary>
    /// <param name="options">Validated inference options.</param>
    /// <param name="manifest">The model's manifest (precision, input name and shape, hash).</param>
    /// <param name="batch">Batch sizes the session runs with (from the ONNX graph and <c>Inference:MaxBatch</c>).</param>
    /// <param name="facts">ONNX Runtime and TensorRT versions and the GPU, for the engine cache key.</param>
    /// <param name="stateDirectory">Absolute state directory that relative cache folders are resolved against.</param>
    public static ProviderPlan Create(InferenceOptions options, ModelManifest manifest, BatchProfile batch, AcceleratorFacts facts, string stateDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);

        var session = new SessionSettings(options.IntraOpThreads, options.InterOpThreads, options.GraphOptimizationLevel,
            options.EnableMemoryPattern, options.EnableCpuMemArena);
        var providers = new List<PlannedProvider>();
        foreach (string name in options.GetProviderChain())
        {
            if (!ExecutionProviderNames.TryParse(name, out ExecutionProviderKind kind))
            {
                throw new ArgumentException($"Inference:Providers contains \"{name}\"; the options were not validated", nameof(options));
            }

            providers.Add(kind switch
            {
                ExecutionProviderKind.TensorRt => PlanTensorRt(options, manifest, batch, facts, stateDirectory),
                ExecutionProviderKind.Cuda => PlanCuda(options.Cuda),
                _ => PlanCpu(options),
            });
        }

        return new ProviderPlan(session, batch, providers);
    }

    /// <summary>The manifest's precision as written in manifests and identities: fp32, fp16 or int8.</summary>
    public static string PrecisionName(ModelPrecision precision) => precision switch
    {
        ModelPrecision.Fp32 => "fp32",
        ModelPrecision.Fp16 => "fp16",
        ModelPrecision.Int8 => "int8",
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, null),
    };

    /// <summary>TensorRT's shape string for the input at batch <paramref name="batch"/>, in the manifest's layout: <c>input:16x3x256x256</c>.</summary>
    public static string ShapeText(InputSpec input, int batch)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Layout == TensorLayout.Nhwc
            ? string.Create(CultureInfo.InvariantCulture, $"{input.Name}:{batch}x{input.Height}x{input.Width}x{input.Channels}")
            : string.Create(CultureInfo.InvariantCulture, $"{input.Name}:{batch}x{input.Channels}x{input.Height}x{input.Width}");
    }

    private static PlannedProvider PlanTensorRt(InferenceOptions options, ModelManifest manifest, BatchProfile batch, AcceleratorFacts facts, string stateDirectory)
    {
        TensorRtOptions trt = options.TensorRt;
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = Invariant(options.Cuda.DeviceId),

            // FP16 and INT8 follow the model: an fp16 model needs FP16 kernels, an int8 (Q/DQ) model needs INT8, and
            // FP16 beside it for the layers the quantizer left in floating point, instead of falling back to FP32.
            ["trt_fp16_enable"] = manifest.Model.Precision is ModelPrecision.Fp16 or ModelPrecision.Int8 ? On : Off,
            ["trt_int8_enable"] = manifest.Model.Precision == ModelPrecision.Int8 ? On : Off,
            ["trt_max_workspace_size"] = Invariant(trt.WorkspaceBytes),
            ["trt_builder_optimization_level"] = Invariant(trt.BuilderOptimizationLevel),
        };

        if (trt.DlaCore is int dla)
        {
            values["trt_dla_enable"] = On;
            values["trt_dla_core"] = Invariant(dla);
        }

        string inputShape = ShapeText(manifest.Input, batch.MaxChunk);
        if (!batch.IsFixed)
        {
            // One explicit profile covering every chunk size: a run never leaves it, so no engine is rebuilt at run time.
            string smallest = ShapeText(manifest.Input, 1);
            values["trt_profile_min_shapes"] = smallest;
            values["trt_profile_opt_shapes"] = inputShape;
            values["trt_profile_max_shapes"] = inputShape;
            inputShape = smallest + ".." + inputShape;
        }

        var notes = new List<string>();
        TensorRtCacheKey? key = null;
        string? engineDirectory = null;
        string? timingDirectory = null;
        bool environmentKnown = facts.TensorRtVersion is not null && facts.GpuName is not null;
        if (trt.EnableEngineCache || trt.EnableTimingCache)
        {
            if (!environmentKnown)
            {
                notes.Add("TensorRT caches are off: the TensorRT version or the GPU could not be read, so a cached engine could not be told from a stale one");
            }
        }

        if (trt.EnableEngineCache && environmentKnown)
        {
            string build = string.Create(CultureInfo.InvariantCulture,
                $"workspace={trt.WorkspaceBytes};dla={(trt.DlaCore is int core ? Invariant(core) : "none")};level={trt.BuilderOptimizationLevel}");
            key = new TensorRtCacheKey(manifest.Id, manifest.Model.Sha256, PrecisionName(manifest.Model.Precision), inputShape,
                facts.OnnxRuntimeVersion, facts.TensorRtVersion!, facts.GpuName!, build);
            engineDirectory = Path.Combine(Path.GetFullPath(trt.EngineCacheDirectory, stateDirectory), key.DirectoryName);
            values["trt_engine_cache_enable"] = On;
            values["trt_engine_cache_path"] = engineDirectory;
        }
        else
        {
            values["trt_engine_cache_enable"] = Off;
        }

        if (trt.EnableTimingCache && environmentKnown)
        {
            // Timing entries are per layer configuration, so every model on this GPU and TensorRT shares one cache.
            string environment = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{facts.TensorRtVersion}\n{facts.GpuName}\n")));
            timingDirectory = Path.Combine(Path.GetFullPath(trt.TimingCacheDirectory, stateDirectory), $"trt{facts.TensorRtVersion}-{environment[..16]}");
            values["trt_timing_cache_enable"] = On;
            values["trt_timing_cache_path"] = timingDirectory;
        }
        else
        {
            values["trt_timing_cache_enable"] = Off;
        }

        return new PlannedProvider(ExecutionProviderKind.TensorRt, values, key, engineDirectory, timingDirectory, notes);
    }

    private static PlannedProvider PlanCuda(CudaOptions cuda)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = Invariant(cuda.DeviceId),
            ["arena_extend_strategy"] = cuda.ArenaExtendStrategy switch
            {
                CudaArenaExtendStrategy.NextPowerOfTwo => "kNextPowerOfTwo",
                _ => "kSameAsRequested",
            },
            ["cudnn_conv_algo_search"] = cuda.CudnnConvAlgoSearch switch
            {
                CudnnConvAlgorithmSearch.Heuristic => "HEURISTIC",
                CudnnConvAlgorithmSearch.Default => "DEFAULT",
                _ => "EXHAUSTIVE",
            },
        };
        if (cuda.GpuMemoryLimitBytes > 0)
        {
            values["gpu_mem_limit"] = Invariant(cuda.GpuMemoryLimitBytes);
        }

        return new PlannedProvider(ExecutionProviderKind.Cuda, values, null, null, null, []);
    }

    private static PlannedProvider PlanCpu(InferenceOptions options) =>
        new(ExecutionProviderKind.Cpu,
            new SortedDictionary<string, string>(StringComparer.Ordinal) { ["use_arena"] = options.EnableCpuMemArena ? On : Off },
            null, null, null, []);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
