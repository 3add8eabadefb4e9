using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Inference.Providers;

namespace EdgeRuntime.Inference.Models;

/// <summary>The result of loading (or swapping in) a model package. Immutable.</summary>
public sealed class ModelLoadOutcome
{
    private ModelLoadOutcome(string package, ModelIdentity? identity, ProviderSelection? providers, ModelLoadStage? failedStage,
        IReadOnlyList<string> problems, TimeSpan elapsed)
    {
        Package = package;
        Identity = identity;
        Providers = providers;
        FailedStage = failedStage;
        Problems = problems;
        Elapsed = elapsed;
    }

    /// <summary>The package folder, as given.</summary>
    public string Package { get; }

    /// <summary>True when the model now serves.</summary>
    public bool Succeeded => FailedStage is null;

    /// <summary>The loaded model; null on failure.</summary>
    public ModelIdentity? Identity { get; }

    /// <summary>Which provider runs the loaded model; null on failure.</summary>
    public ProviderSelection? Providers { get; }

    /// <summary>Where the load stopped; null on success.</summary>
    public ModelLoadStage? FailedStage { get; }

    /// <summary>Every problem found; empty on success.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Time the load took, including session creation and warm-up.</summary>
    public TimeSpan Elapsed { get; }

    internal static ModelLoadOutcome Success(string package, ModelIdentity identity, ProviderSelection providers, TimeSpan elapsed) =>
        new(package, identity, providers, null, [], elapsed);

    internal static ModelLoadOutcome Failure(string package, ModelLoadStage stage, IReadOnlyList<string> problems, TimeSpan elapsed) =>
        new(package, null, null, stage, problems, elapsed);

    public override string ToString() => Succeeded
        ? $"{Identity!.Id} {Identity.Version} ready on {Providers} in {Elapsed.TotalMilliseconds:F0} ms"
        : $"{Package} refused ({FailedStage}): {string.Join("; ", Problems)}";
}
