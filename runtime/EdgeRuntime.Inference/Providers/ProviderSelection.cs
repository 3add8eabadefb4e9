using System.Text;

namespace EdgeRuntime.Inference.Providers;

/// <summary>A provider of the chain that does not run the model, and why.</summary>
/// <param name="Provider">The provider.</param>
/// <param name="Reason">ONNX Runtime's words for why it could not be used (library missing, no GPU, ...).</param>
public sealed record SkippedProvider(ExecutionProviderKind Provider, string Reason);

/// <summary>
/// Which execution provider runs a model and why each earlier one in the chain was skipped, for health, status and
/// logs. Immutable.
/// </summary>
public sealed class ProviderSelection
{
    internal ProviderSelection(ExecutionProviderKind active, IReadOnlyList<ExecutionProviderKind> fallbacks, IReadOnlyList<SkippedProvider> skipped,
        PlannedProvider activePlan, bool engineCacheHit)
    {
        Active = active;
        Fallbacks = fallbacks;
        Skipped = skipped;
        ActivePlan = activePlan;
        EngineCacheHit = engineCacheHit;
    }

    /// <summary>The provider that runs the model.</summary>
    public ExecutionProviderKind Active { get; }

    /// <summary>Providers registered after <see cref="Active"/>; ONNX Runtime gives them the operators the active one cannot run.</summary>
    public IReadOnlyList<ExecutionProviderKind> Fallbacks { get; }

    /// <summary>Providers of the chain that could not be used, in chain order, with the reason.</summary>
    public IReadOnlyList<SkippedProvider> Skipped { get; }

    /// <summary>The options the active provider was created with.</summary>
    public PlannedProvider ActivePlan { get; }

    /// <summary>For TensorRT: true when its engine cache folder already held an engine (loaded, not built).</summary>
    public bool EngineCacheHit { get; }

    /// <summary><c>CPU (skipped TensorRT: ...; CUDA: ...)</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Active.DisplayName());
        if (Skipped.Count > 0)
        {
            text.Append(" (skipped ");
            for (int i = 0; i < Skipped.Count; i++)
            {
                text.Append(i == 0 ? string.Empty : "; ").Append(Skipped[i].Provider.DisplayName()).Append(": ").Append(Skipped[i].Reason);
            }

            text.Append(')');
        }

        return text.ToString();
    }
}
