using EdgeRuntime.Core.Options;
using EdgeRuntime.Inference.Providers;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Inference;

/// <summary>Validates <see cref="InferenceOptions"/> at start-up, reporting every problem with its key, value and what is allowed.</summary>
public sealed class InferenceOptionsValidator : IValidateOptions<InferenceOptions>
{
    private const long MaxWorkspaceBytes = 1L << 40;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(InferenceOptions.SectionName);
        CheckProviders(problems, options.Providers);
        problems.InRange(options.IntraOpThreads, nameof(options.IntraOpThreads), 0, 256, " threads (0 = one per physical core)");
        problems.InRange(options.InterOpThreads, nameof(options.InterOpThreads), 0, 256, " threads (0 = ONNX Runtime's default)");
        problems.Defined(options.GraphOptimizationLevel, nameof(options.GraphOptimizationLevel));
        problems.InRange(options.MaxBatch, nameof(options.MaxBatch), 1, 256, " tiles per run");
        problems.InRange(options.WarmupRuns, nameof(options.WarmupRuns), 1, 100, " runs");
        CheckTensorRt(problems, options.TensorRt);
        CheckCuda(problems, options.Cuda);
        return problems.ToResult();
    }

    private static void CheckProviders(OptionsProblems problems, string[]? providers)
    {
        const string Key = nameof(InferenceOptions.Providers);
        if (providers is null)
        {
            return;
        }

        string allowed = "must be one of " + string.Join(", ", ExecutionProviderNames.ConfigurationNames);
        if (providers.Length == 0)
        {
            problems.Add(Key, "[]", "must list at least one provider: " + string.Join(", ", ExecutionProviderNames.ConfigurationNames));
            return;
        }

        var seen = new HashSet<ExecutionProviderKind>();
        for (int i = 0; i < providers.Length; i++)
        {
            string key = $"{Key}:{i}";
            if (!ExecutionProviderNames.TryParse(providers[i], out ExecutionProviderKind kind))
            {
                problems.Add(key, providers[i], allowed);
                continue;
            }

            if (!seen.Add(kind))
            {
                problems.Add(key, providers[i], "is listed twice; each provider may appear once");
            }

            if (kind == ExecutionProviderKind.Cpu && i != providers.Length - 1)
            {
                // CPU runs every operator, so a provider after it would never get any.
                problems.Add(key, providers[i], "cpu must be the last provider: it runs every operator, so nothing after it would be used");
            }
        }
    }

    private static void CheckTensorRt(OptionsProblems problems, TensorRtOptions? tensorRt)
    {
        const string Section = nameof(InferenceOptions.TensorRt);
        if (tensorRt is null)
        {
            problems.Add(Section, null, "must be an object");
            return;
        }

        problems.NotEmpty(tensorRt.EngineCacheDirectory, Section + ":" + nameof(tensorRt.EngineCacheDirectory),
            "a directory path (relative paths are under Pipeline:StateDirectory)");
        problems.NotEmpty(tensorRt.TimingCacheDirectory, Section + ":" + nameof(tensorRt.TimingCacheDirectory),
            "a directory path (relative paths are under Pipeline:StateDirectory)");
        problems.Check(tensorRt.WorkspaceBytes is >= 0 and <= MaxWorkspaceBytes, Section + ":" + nameof(tensorRt.WorkspaceBytes),
            tensorRt.WorkspaceBytes, $"must be between 0 (TensorRT's default) and {MaxWorkspaceBytes} bytes");
        if (tensorRt.DlaCore is int dla)
        {
            problems.InRange(dla, Section + ":" + nameof(tensorRt.DlaCore), 0, 1, " (Jetson Orin DLA cores; leave unset to run on the GPU)");
        }

        problems.InRange(tensorRt.BuilderOptimizationLevel, Section + ":" + nameof(tensorRt.BuilderOptimizationLevel), 0, 5);
    }

    private static void CheckCuda(OptionsProblems problems, CudaOptions? cuda)
    {
        const string Section = nameof(InferenceOptions.Cuda);
        if (cuda is null)
        {
            problems.Add(Section, null, "must be an object");
            return;
        }

        problems.InRange(cuda.DeviceId, Section + ":" + nameof(cuda.DeviceId), 0, 63, " (CUDA device ordinal)");
        problems.Defined(cuda.ArenaExtendStrategy, Section + ":" + nameof(cuda.ArenaExtendStrategy));
        problems.Defined(cuda.CudnnConvAlgoSearch, Section + ":" + nameof(cuda.CudnnConvAlgoSearch));
        problems.Check(cuda.GpuMemoryLimitBytes >= 0, Section + ":" + nameof(cuda.GpuMemoryLimitBytes), cuda.GpuMemoryLimitBytes,
            "must be 0 (no limit) or a positive number of bytes");
    }
}
