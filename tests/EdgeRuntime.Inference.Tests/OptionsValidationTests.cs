using Microsoft.Extensions.Options;

namespace EdgeRuntime.Inference.Tests;

public sealed class OptionsValidationTests
{
    [Fact]
    public void DefaultInferenceOptionsAreValidAndListTensorRtCudaCpu()
    {
        var options = new InferenceOptions();

        Assert.True(new InferenceOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(["tensorrt", "cuda", "cpu"], options.GetProviderChain());
    }

    [Fact]
    public void UnknownProviderIsNamedWithItsIndexAndTheAllowedNames()
    {
        ValidateOptionsResult result = new InferenceOptionsValidator().Validate(null, new InferenceOptions { Providers = ["cuda", "rocm", "cpu"] });

        Assert.Equal(["Inference:Providers:1 = \"rocm\": must be one of tensorrt, cuda, cpu"], result.Failures);
    }

    [Fact]
    public void CpuBeforeAnotherProviderAndDuplicatesAreRefused()
    {
        ValidateOptionsResult result = new InferenceOptionsValidator().Validate(null, new InferenceOptions { Providers = ["cpu", "cuda", "cuda"] });

        Assert.Equal(
            [
                "Inference:Providers:0 = \"cpu\": cpu must be the last provider: it runs every operator, so nothing after it would be used",
                "Inference:Providers:2 = \"cuda\": is listed twice; each provider may appear once",
            ],
            result.Failures);
    }

    [Fact]
    public void EveryOutOfRangeSettingIsReportedWithKeyValueAndRange()
    {
        var options = new InferenceOptions
        {
            MaxBatch = 0,
            IntraOpThreads = -1,
            WarmupRuns = 0,
            GraphOptimizationLevel = (GraphOptimization)9,
            TensorRt = new TensorRtOptions { DlaCore = 2, BuilderOptimizationLevel = 7, WorkspaceBytes = -1, EngineCacheDirectory = " " },
            Cuda = new CudaOptions { DeviceId = -1, GpuMemoryLimitBytes = -5 },
        };

        ValidateOptionsResult result = new InferenceOptionsValidator().Validate(null, options);

        Assert.Equal(
            [
                "Inference:IntraOpThreads = -1: must be between 0 and 256 threads (0 = one per physical core)",
                "Inference:GraphOptimizationLevel = 9: must be one of Disabled, Basic, Extended, All",
                "Inference:MaxBatch = 0: must be between 1 and 256 tiles per run",
                "Inference:WarmupRuns = 0: must be between 1 and 100 runs",
                "Inference:TensorRt:EngineCacheDirectory = \" \": must be a directory path (relative paths are under Pipeline:StateDirectory)",
                "Inference:TensorRt:WorkspaceBytes = -1: must be between 0 (TensorRT's default) and 1099511627776 bytes",
                "Inference:TensorRt:DlaCore = 2: must be between 0 and 1 (Jetson Orin DLA cores; leave unset to run on the GPU)",
                "Inference:TensorRt:BuilderOptimizationLevel = 7: must be between 0 and 5",
                "Inference:Cuda:DeviceId = -1: must be between 0 and 63 (CUDA device ordinal)",
                "Inference:Cuda:GpuMemoryLimitBytes = -5: must be 0 (no limit) or a positive number of bytes",
            ],
            result.Failures);
    }

    [Fact]
    public void MissingNestedSectionsAreReported()
    {
        ValidateOptionsResult result = new InferenceOptionsValidator().Validate(null, new InferenceOptions { TensorRt = null!, Cuda = null! });

        Assert.Equal(["Inference:TensorRt = (missing): must be an object", "Inference:Cuda = (missing): must be an object"], result.Failures);
    }

    [Fact]
    public void ModelOptionsNeedAPackageAndKeysWhenASignatureIsRequired()
    {
        ValidateOptionsResult result = new ModelOptionsValidator().Validate(null, new ModelOptions { RequireSignature = true });

        Assert.Equal(
            [
                "Model:Package = \"\": must be a model package folder (manifest.json + the ONNX file)",
                "Model:TrustedKeysDirectory = (missing): must be a folder of trusted *.pem public keys when Model:RequireSignature is true",
            ],
            result.Failures);
    }

    [Fact]
    public void GoldenIntervalAndShadowSettingsOutOfRangeAreReportedWithKeyValueAndRange()
    {
        var options = new ModelOptions
        {
            Package = "/opt/models/active",
            GoldenCheckMinutes = -1,
            Shadow = new ShadowOptions { Package = "/opt/models/candidate", Fraction = 1.5, MaxExamples = -1, MaxQueued = 0 },
        };

        ValidateOptionsResult result = new ModelOptionsValidator().Validate(null, options);

        Assert.Equal(
            [
                "Model:GoldenCheckMinutes = -1: must be between 0 and 10080 minutes (0 = no periodic check)",
                "Model:Shadow:Fraction = 1.5: must be more than 0 and at most 1 (the share of frames the shadow model judges)",
                "Model:Shadow:MaxExamples = -1: must be between 0 and 1000 disagreements kept",
                "Model:Shadow:MaxQueued = 0: must be between 1 and 64 frames waiting for the shadow model",
            ],
            result.Failures);
    }

    [Fact]
    public void ShadowSettingsAreOnlyJudgedWhenAShadowPackageIsConfigured()
    {
        var options = new ModelOptions { Package = "/opt/models/active", Shadow = new ShadowOptions { Fraction = 7 } };

        Assert.True(new ModelOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void ModelOptionsWithAPackageAreValid()
    {
        Assert.True(new ModelOptionsValidator().Validate(null, new ModelOptions { Package = "/opt/models/defect-unet" }).Succeeded);
    }
}
