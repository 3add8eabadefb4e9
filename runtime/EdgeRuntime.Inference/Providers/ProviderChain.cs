using EdgeRuntime.Inference.Models;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Inference.Providers;

/// <summary>
/// Creates an ONNX Runtime session on the first provider of a <see cref="ProviderPlan"/> that can run the model. A
/// provider whose native library is missing fails when it is appended; one without a usable device, or that cannot
/// build the model, fails when the session is created. Either way it is skipped with ONNX Runtime's reason and the
/// next one is tried, so a missing provider never stops the service. Stateless apart from the logger; thread-safe.
/// </summary>
internal sealed partial class ProviderChain(ILogger logger)
{
    /// <summary>Creates the session.</summary>
    /// <param name="model">The verified ONNX bytes.</param>
    /// <param name="plan">The planned session and providers.</param>
    /// <param name="modelLabel">The model's name in logs (<c>id version</c>).</param>
    /// <param name="progress">Told what is being tried, for a health report while an engine builds; may be null.</param>
    /// <returns>The session (the caller owns and disposes it) and which provider runs it.</returns>
    /// <exception cref="ModelLoadException">No provider of the chain could run the model.</exception>
    /// <exception cref="OnnxRuntimeException">The model fails on the CPU provider too: the model itself is at fault.</exception>
    public (InferenceSession Session, ProviderSelection Selection) CreateSession(byte[] model, ProviderPlan plan, string modelLabel, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        var skipped = new List<SkippedProvider>();
        var unusable = new HashSet<ExecutionProviderKind>();
        var appended = new List<ExecutionProviderKind>();
        foreach (PlannedProvider planned in plan.Providers)
        {
            foreach (string note in planned.Notes)
            {
                Log.ProviderNote(logger, modelLabel, planned.Kind.DisplayName(), note);
            }
        }

        while (true)
        {
            appended.Clear();
            int knownSkips = skipped.Count;
            using SessionOptions options = CreateSessionOptions(plan, unusable, skipped, appended);
            for (int i = knownSkips; i < skipped.Count; i++)
            {
                Log.ProviderSkipped(logger, modelLabel, skipped[i].Provider.DisplayName(), skipped[i].Reason);
            }

            if (appended.Count == 0)
            {
                throw new ModelLoadException(ModelLoadStage.Providers,
                    [$"no configured execution provider can run the model ({string.Join("; ", skipped.Select(s => $"{s.Provider.DisplayName()}: {s.Reason}"))})"]);
            }

            ExecutionProviderKind first = appended[0];
            PlannedProvider firstPlan = plan.Find(first)!;
            bool cacheHit = firstPlan.EngineCacheDirectory is { } cache && Directory.Exists(cache) && Directory.EnumerateFiles(cache, "*.engine").Any();
            if (first == ExecutionProviderKind.TensorRt)
            {
                string action = cacheHit ? "loading the cached engine" : "building the engine; this can take minutes";
                Log.TensorRtEngineCache(logger, modelLabel, firstPlan.EngineCacheDirectory ?? "(off)", action);
                progress?.Invoke("TensorRT: " + action);
            }
            else
            {
                progress?.Invoke("creating the session on " + first.DisplayName());
            }

            InferenceSession session;
            try
            {
                session = new InferenceSession(model, options);
            }
            catch (OnnxRuntimeException ex) when (first != ExecutionProviderKind.Cpu)
            {
                // No device, an engine that does not build, a driver mismatch: the provider's fault, not the model's.
                skipped.Add(new SkippedProvider(first, ex.Message));
                unusable.Add(first);
                Log.ProviderSkipped(logger, modelLabel, first.DisplayName(), ex.Message);
                continue;
            }

            var selection = new ProviderSelection(first, appended.Skip(1).ToArray(), skipped.ToArray(), firstPlan, cacheHit);
            Log.ProviderSelected(logger, modelLabel, first.DisplayName(), skipped.Count);
            return (session, selection);
        }
    }

    /// <summary>
    /// The one place where a plan becomes <see cref="SessionOptions"/>: session settings, then every planned provider
    /// not already known to be unusable, in order. A provider that cannot be appended is added to
    /// <paramref name="skipped"/> and <paramref name="unusable"/>; the appended ones are listed in
    /// <paramref name="appended"/>. The caller owns the returned options.
    /// </summary>
    internal static SessionOptions CreateSessionOptions(ProviderPlan plan, HashSet<ExecutionProviderKind> unusable, List<SkippedProvider> skipped,
        List<ExecutionProviderKind> appended)
    {
        var options = new SessionOptions();
        bool configured = false;
        try
        {
            options.IntraOpNumThreads = plan.Session.IntraOpThreads;
            options.InterOpNumThreads = plan.Session.InterOpThreads;
            options.GraphOptimizationLevel = plan.Session.OptimizationLevel switch
            {
                GraphOptimization.Disabled => GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            options.EnableMemoryPattern = plan.Session.EnableMemoryPattern;
            options.EnableCpuMemArena = plan.Session.EnableCpuMemArena;
            options.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
            foreach (PlannedProvider provider in plan.Providers)
            {
                if (unusable.Contains(provider.Kind))
                {
                    continue;
                }

                try
                {
                    Append(options, provider);
                    appended.Add(provider.Kind);
                }
                catch (OnnxRuntimeException ex)
                {
                    // This ONNX Runtime build lacks the provider, or its library (libnvinfer, libcudnn) is missing.
                    skipped.Add(new SkippedProvider(provider.Kind, ex.Message));
                    unusable.Add(provider.Kind);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    skipped.Add(new SkippedProvider(provider.Kind, $"its cache folder cannot be created: {ex.Message}"));
                    unusable.Add(provider.Kind);
                }
            }

            configured = true;
            return options;
        }
        finally
        {
            if (!configured)
            {
                options.Dispose();
            }
        }
    }

    private static void Append(SessionOptions options, PlannedProvider provider)
    {
        switch (provider.Kind)
        {
            case ExecutionProviderKind.TensorRt:
            {
                using var tensorRt = new OrtTensorRTProviderOptions();
                tensorRt.UpdateOptions(new Dictionary<string, string>(provider.Options));
                CreateCacheDirectories(provider);
                options.AppendExecutionProvider_Tensorrt(tensorRt);
                break;
            }

            case ExecutionProviderKind.Cuda:
            {
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(new Dictionary<string, string>(provider.Options));
                options.AppendExecutionProvider_CUDA(cuda);
                break;
            }

            default:
                options.AppendExecutionProvider_CPU(provider.Options.TryGetValue("use_arena", out string? arena) && arena == "1" ? 1 : 0);
                break;
        }
    }

    private static void CreateCacheDirectories(PlannedProvider provider)
    {
        if (provider.EngineCacheDirectory is { } engines)
        {
            Directory.CreateDirectory(engines);
        }

        if (provider.TimingCacheDirectory is { } timing)
        {
            Directory.CreateDirectory(timing);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(101, LogLevel.Warning, "Model {Model}: execution provider {Provider} skipped: {Reason}")]
        public static partial void ProviderSkipped(ILogger logger, string model, string provider, string reason);

        [LoggerMessage(102, LogLevel.Information, "Model {Model} runs on {Provider} ({SkippedCount} earlier providers skipped)")]
        public static partial void ProviderSelected(ILogger logger, string model, string provider, int skippedCount);

        [LoggerMessage(103, LogLevel.Information, "Model {Model}: TensorRT engine cache {Directory}: {Action}")]
        public static partial void TensorRtEngineCache(ILogger logger, string model, string directory, string action);

        [LoggerMessage(104, LogLevel.Warning, "Model {Model}: {Provider}: {Note}")]
        public static partial void ProviderNote(ILogger logger, string model, string provider, string note);
    }
}
