namespace EdgeRuntime.Inference.Providers;

/// <summary>
/// Everything ONNX Runtime is told when a session is created for one model: session-wide settings and, in order of
/// preference, each execution provider with its exact option keys and values. Produced by
/// <see cref="ProviderPlanner.Create"/> without touching ONNX Runtime, so it can be inspected, logged and tested on
/// any machine; applied in one place by the provider chain. Immutable.
/// </summary>
public sealed class ProviderPlan
{
    internal ProviderPlan(SessionSettings session, BatchProfile batch, IReadOnlyList<PlannedProvider> providers)
    {
        Session = session;
        Batch = batch;
        Providers = providers;
    }

    /// <summary>Session-wide settings (threads, graph optimisation, memory).</summary>
    public SessionSettings Session { get; }

    /// <summary>Batch sizes the session will run with.</summary>
    public BatchProfile Batch { get; }

    /// <summary>Providers in order of preference, as configured.</summary>
    public IReadOnlyList<PlannedProvider> Providers { get; }

    /// <summary>The planned provider of <paramref name="kind"/>, or null when it is not in the chain.</summary>
    public PlannedProvider? Find(ExecutionProviderKind kind)
    {
        foreach (PlannedProvider provider in Providers)
        {
            if (provider.Kind == kind)
            {
                return provider;
            }
        }

        return null;
    }
}

/// <summary>Session-wide ONNX Runtime settings.</summary>
/// <param name="IntraOpThreads">Intra-op threads; 0 for ONNX Runtime's default.</param>
/// <param name="InterOpThreads">Inter-op threads; 0 for ONNX Runtime's default.</param>
/// <param name="OptimizationLevel">Graph optimisation level.</param>
/// <param name="EnableMemoryPattern">Whether memory plans are reused per shape.</param>
/// <param name="EnableCpuMemArena">Whether the CPU arena is kept across runs.</param>
public sealed record SessionSettings(int IntraOpThreads, int InterOpThreads, GraphOptimization OptimizationLevel, bool EnableMemoryPattern, bool EnableCpuMemArena);

/// <summary>One execution provider with the option strings passed to ONNX Runtime. Immutable.</summary>
public sealed class PlannedProvider
{
    internal PlannedProvider(ExecutionProviderKind kind, IReadOnlyDictionary<string, string> options, TensorRtCacheKey? engineCacheKey,
        string? engineCacheDirectory, string? timingCacheDirectory, IReadOnlyList<string> notes)
    {
        Kind = kind;
        Options = options;
        EngineCacheKey = engineCacheKey;
        EngineCacheDirectory = engineCacheDirectory;
        TimingCacheDirectory = timingCacheDirectory;
        Notes = notes;
    }

    public ExecutionProviderKind Kind { get; }

    /// <summary>
    /// Provider option keys and values exactly as ONNX Runtime receives them (for CPU, <c>use_arena</c> only; its other
    /// settings are session-wide). Ordinal key order.
    /// </summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <summary>What the TensorRT engine cache folder is keyed by; null for other providers or when caching is off.</summary>
    public TensorRtCacheKey? EngineCacheKey { get; }

    /// <summary>Absolute engine cache folder for this model and environment; null when not cached.</summary>
    public string? EngineCacheDirectory { get; }

    /// <summary>Absolute timing cache folder; null when not used.</summary>
    public string? TimingCacheDirectory { get; }

    /// <summary>Decisions worth telling an operator (a cache disabled and why).</summary>
    public IReadOnlyList<string> Notes { get; }

    public override string ToString() =>
        Kind.DisplayName() + " {" + string.Join(", ", Options.Select(option => option.Key + "=" + option.Value)) + "}";
}
