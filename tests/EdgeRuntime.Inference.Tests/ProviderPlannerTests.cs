using EdgeRuntime.Inference.Providers;
using EdgeRuntime.Inference.Tests.Support;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Inference.Tests;

public sealed class ProviderPlannerTests
{
    private const string StateDirectory = "/var/lib/edge-runtime";
    private const string Sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static readonly AcceleratorFacts s_jetson = new("1.31.1", "10.3.0", "Orin sm_87 16SM");
    private static readonly BatchProfile s_dynamic16 = new(16, IsFixed: false);

    [Fact]
    public void Fp16ModelGetsExactlyTheTensorRtOptionsForFp16WithAProfileCoveringEveryChunk()
    {
        ProviderPlan plan = ProviderPlanner.Create(new InferenceOptions(), Manifest("fp16"), s_dynamic16, s_jetson, StateDirectory);

        PlannedProvider trt = plan.Providers[0];
        string engines = $"{StateDirectory}/tensorrt/engines/{trt.EngineCacheKey!.DirectoryName}";
        Assert.Equal(ExecutionProviderKind.TensorRt, trt.Kind);
        Assert.Equal(
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["device_id"] = "0",
                ["trt_builder_optimization_level"] = "3",
                ["trt_engine_cache_enable"] = "1",
                ["trt_engine_cache_path"] = engines,
                ["trt_fp16_enable"] = "1",
                ["trt_int8_enable"] = "0",
                ["trt_max_workspace_size"] = "1073741824",
                ["trt_profile_max_shapes"] = "input:16x3x64x64",
                ["trt_profile_min_shapes"] = "input:1x3x64x64",
                ["trt_profile_opt_shapes"] = "input:16x3x64x64",
                ["trt_timing_cache_enable"] = "1",
                ["trt_timing_cache_path"] = trt.TimingCacheDirectory!,
            },
            trt.Options);
        Assert.Equal(engines, trt.EngineCacheDirectory);
        Assert.StartsWith($"{StateDirectory}/tensorrt/timing/trt10.3.0-", trt.TimingCacheDirectory, StringComparison.Ordinal);
        Assert.StartsWith("tiny-unet-fp16-", trt.EngineCacheKey.DirectoryName, StringComparison.Ordinal);
        Assert.Empty(trt.Notes);
    }

    [Theory]
    [InlineData("fp32", "0", "0")]
    [InlineData("fp16", "1", "0")]
    [InlineData("int8", "1", "1")]
    public void TensorRtPrecisionFlagsFollowTheModelPrecision(string precision, string fp16, string int8)
    {
        ProviderPlan plan = ProviderPlanner.Create(new InferenceOptions(), Manifest(precision), s_dynamic16, s_jetson, StateDirectory);

        PlannedProvider trt = plan.Find(ExecutionProviderKind.TensorRt)!;
        Assert.Equal(fp16, trt.Options["trt_fp16_enable"]);
        Assert.Equal(int8, trt.Options["trt_int8_enable"]);
        Assert.Equal(precision, trt.EngineCacheKey!.Precision);
    }

    [Fact]
    public void ConfiguredTensorRtSettingsReachTheirOptionKeys()
    {
        var options = new InferenceOptions
        {
            TensorRt = new TensorRtOptions { DlaCore = 1, WorkspaceBytes = 512L << 20, BuilderOptimizationLevel = 5, EngineCacheDirectory = "/data/engines" },
            Cuda = new CudaOptions { DeviceId = 2 },
        };

        PlannedProvider trt = ProviderPlanner.Create(options, Manifest("int8"), s_dynamic16, s_jetson, StateDirectory).Providers[0];

        Assert.Equal("1", trt.Options["trt_dla_enable"]);
        Assert.Equal("1", trt.Options["trt_dla_core"]);
        Assert.Equal("536870912", trt.Options["trt_max_workspace_size"]);
        Assert.Equal("5", trt.Options["trt_builder_optimization_level"]);
        Assert.Equal("2", trt.Options["device_id"]);
        Assert.StartsWith("/data/engines/tiny-unet-int8-", trt.Options["trt_engine_cache_path"], StringComparison.Ordinal);
        Assert.Equal("workspace=536870912;dla=1;level=5", trt.EngineCacheKey!.BuildSettings);
    }

    [Fact]
    public void WithoutDlaTheDlaKeysAreAbsent()
    {
        PlannedProvider trt = ProviderPlanner.Create(new InferenceOptions(), Manifest("fp16"), s_dynamic16, s_jetson, StateDirectory).Providers[0];

        Assert.False(trt.Options.ContainsKey("trt_dla_enable"));
        Assert.False(trt.Options.ContainsKey("trt_dla_core"));
    }

    [Fact]
    public void FixedBatchModelGetsNoProfileAndItsBatchInTheCacheKey()
    {
        PlannedProvider trt = ProviderPlanner.Create(new InferenceOptions(), Manifest("fp16"), new BatchProfile(4, IsFixed: true), s_jetson, StateDirectory)
            .Providers[0];

        Assert.DoesNotContain(trt.Options.Keys, key => key.StartsWith("trt_profile_", StringComparison.Ordinal));
        Assert.Equal("input:4x3x64x64", trt.EngineCacheKey!.InputShape);
    }

    [Fact]
    public void CudaAndCpuOptionsMapToOnnxRuntimeKeys()
    {
        var options = new InferenceOptions
        {
            EnableCpuMemArena = false,
            Cuda = new CudaOptions
            {
                DeviceId = 1,
                ArenaExtendStrategy = CudaArenaExtendStrategy.NextPowerOfTwo,
                CudnnConvAlgoSearch = CudnnConvAlgorithmSearch.Heuristic,
                GpuMemoryLimitBytes = 2L << 30,
            },
        };

        ProviderPlan plan = ProviderPlanner.Create(options, Manifest("fp32"), s_dynamic16, s_jetson, StateDirectory);

        Assert.Equal(
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["arena_extend_strategy"] = "kNextPowerOfTwo",
                ["cudnn_conv_algo_search"] = "HEURISTIC",
                ["device_id"] = "1",
                ["gpu_mem_limit"] = "2147483648",
            },
            plan.Find(ExecutionProviderKind.Cuda)!.Options);
        Assert.Equal(new SortedDictionary<string, string>(StringComparer.Ordinal) { ["use_arena"] = "0" }, plan.Find(ExecutionProviderKind.Cpu)!.Options);
        Assert.False(plan.Session.EnableCpuMemArena);
    }

    [Fact]
    public void DefaultCudaOptionsLeaveTheMemoryLimitUnset()
    {
        PlannedProvider cuda = ProviderPlanner.Create(new InferenceOptions(), Manifest("fp32"), s_dynamic16, s_jetson, StateDirectory)
            .Find(ExecutionProviderKind.Cuda)!;

        Assert.Equal(
            new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["arena_extend_strategy"] = "kSameAsRequested",
                ["cudnn_conv_algo_search"] = "EXHAUSTIVE",
                ["device_id"] = "0",
            },
            cuda.Options);
    }

    [Fact]
    public void ProvidersAreInConfiguredOrderAndDefaultToTensorRtCudaCpu()
    {
        ProviderPlan byDefault = ProviderPlanner.Create(new InferenceOptions(), Manifest("fp32"), s_dynamic16, s_jetson, StateDirectory);
        ProviderPlan configured = ProviderPlanner.Create(new InferenceOptions { Providers = ["CUDA", "cpu"] }, Manifest("fp32"), s_dynamic16, s_jetson, StateDirectory);

        Assert.Equal([ExecutionProviderKind.TensorRt, ExecutionProviderKind.Cuda, ExecutionProviderKind.Cpu], byDefault.Providers.Select(p => p.Kind));
        Assert.Equal([ExecutionProviderKind.Cuda, ExecutionProviderKind.Cpu], configured.Providers.Select(p => p.Kind));
    }

    [Fact]
    public void SessionSettingsComeFromTheOptions()
    {
        var options = new InferenceOptions { IntraOpThreads = 3, InterOpThreads = 2, GraphOptimizationLevel = GraphOptimization.Basic, EnableMemoryPattern = false };

        ProviderPlan plan = ProviderPlanner.Create(options, Manifest("fp32"), s_dynamic16, s_jetson, StateDirectory);

        Assert.Equal(new SessionSettings(3, 2, GraphOptimization.Basic, EnableMemoryPattern: false, EnableCpuMemArena: true), plan.Session);
    }

    [Fact]
    public void UnchangedModelAndEnvironmentReuseTheSameEngineFolder()
    {
        string first = EngineFolder(Manifest("fp16"), s_jetson, s_dynamic16);
        string second = EngineFolder(Manifest("fp16"), s_jetson with { }, s_dynamic16);

        Assert.Equal(first, second);
    }

    public static TheoryData<string> EngineDependencies => ["model hash", "precision", "input shape", "onnxruntime", "tensorrt", "gpu", "workspace", "dla"];

    [Theory]
    [MemberData(nameof(EngineDependencies))]
    public void AnyChangeAnEngineDependsOnGivesAnotherEngineFolder(string change)
    {
        ModelManifest manifest = Manifest("fp16");
        var options = new InferenceOptions();
        AcceleratorFacts facts = s_jetson;
        BatchProfile batch = s_dynamic16;
        string before = EngineFolder(manifest, facts, batch, options);

        switch (change)
        {
            case "model hash":
                manifest = Manifest("fp16", sha: "f" + Sha[1..]);
                break;
            case "precision":
                manifest = Manifest("int8");
                break;
            case "input shape":
                batch = new BatchProfile(8, IsFixed: false);
                break;
            case "onnxruntime":
                facts = facts with { OnnxRuntimeVersion = "1.32.0" };
                break;
            case "tensorrt":
                facts = facts with { TensorRtVersion = "10.4.0" };
                break;
            case "gpu":
                facts = facts with { GpuName = "Orin sm_87 8SM" };
                break;
            case "workspace":
                options.TensorRt.WorkspaceBytes = 256L << 20;
                break;
            case "dla":
                options.TensorRt.DlaCore = 0;
                break;
        }

        Assert.NotEqual(before, EngineFolder(manifest, facts, batch, options));
    }

    [Fact]
    public void CachesAreOffWhenTheTensorRtVersionCannotBeRead()
    {
        PlannedProvider trt = ProviderPlanner.Create(new InferenceOptions(), Manifest("fp16"), s_dynamic16, s_jetson with { TensorRtVersion = null }, StateDirectory)
            .Providers[0];

        Assert.Equal("0", trt.Options["trt_engine_cache_enable"]);
        Assert.Equal("0", trt.Options["trt_timing_cache_enable"]);
        Assert.False(trt.Options.ContainsKey("trt_engine_cache_path"));
        Assert.Null(trt.EngineCacheDirectory);
        Assert.Contains(trt.Notes, note => note.Contains("stale", StringComparison.Ordinal));
    }

    [Fact]
    public void DisabledEngineCacheWritesNoCachePath()
    {
        var options = new InferenceOptions { TensorRt = new TensorRtOptions { EnableEngineCache = false, EnableTimingCache = false } };

        PlannedProvider trt = ProviderPlanner.Create(options, Manifest("fp16"), s_dynamic16, s_jetson, StateDirectory).Providers[0];

        Assert.Equal("0", trt.Options["trt_engine_cache_enable"]);
        Assert.False(trt.Options.ContainsKey("trt_engine_cache_path"));
        Assert.False(trt.Options.ContainsKey("trt_timing_cache_path"));
        Assert.Empty(trt.Notes);
    }

    [Theory]
    [InlineData(100300, "10.3.0")]
    [InlineData(100902, "10.9.2")]
    [InlineData(8601, "8.6.1")]
    [InlineData(8502, "8.5.2")]
    public void TensorRtVersionNumbersAreDecodedForBothEncodings(int encoded, string expected)
    {
        Assert.Equal(expected, NativeAcceleratorProbe.DecodeTensorRtVersion(encoded));
    }

    private static string EngineFolder(ModelManifest manifest, AcceleratorFacts facts, BatchProfile batch, InferenceOptions? options = null) =>
        ProviderPlanner.Create(options ?? new InferenceOptions(), manifest, batch, facts, StateDirectory).Providers[0].EngineCacheDirectory!;

    private static ModelManifest Manifest(string precision, string sha = Sha) =>
        TestPackage.Manifest(new ManifestFields { Precision = precision }, sha);
}
