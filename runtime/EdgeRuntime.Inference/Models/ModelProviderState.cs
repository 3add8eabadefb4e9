using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Inference.Providers;

namespace EdgeRuntime.Inference.Models;

/// <summary>Where a model (or the provider as a whole) is in its life.</summary>
public enum ModelPhase
{
    /// <summary>Nothing loaded and nothing loading.</summary>
    NotLoaded,

    /// <summary>Reading and verifying the package.</summary>
    Loading,

    /// <summary>Creating the session (a TensorRT engine build can take minutes) and running the warm-up inference.</summary>
    Warming,

    /// <summary>A model is serving.</summary>
    Ready,

    /// <summary>No model is serving and the last load failed.</summary>
    Failed,
}

/// <summary>
/// A snapshot of the model provider for health and status: whether a model serves, which and on what provider, what is
/// loading beside it, and the last failure. Immutable.
/// </summary>
/// <param name="Phase">Ready while a model serves (even while another loads beside it); otherwise the initial load's phase or Failed.</param>
/// <param name="Message">One line for an operator.</param>
/// <param name="Elapsed">Time since <paramref name="Phase"/> began.</param>
/// <param name="Active">The serving model; null when none.</param>
/// <param name="Providers">Which provider runs the serving model and why others were skipped; null when none serves.</param>
/// <param name="Load">A load in progress (the first load, or a swap beside the serving model); null when none.</param>
/// <param name="LastFailure">Why the most recent load failed; cleared by a successful load.</param>
public sealed record ModelProviderState(
    ModelPhase Phase,
    string Message,
    TimeSpan Elapsed,
    ModelIdentity? Active,
    ProviderSelection? Providers,
    ModelLoadProgress? Load,
    string? LastFailure);

/// <summary>A load in progress.</summary>
/// <param name="Package">The package folder being loaded.</param>
/// <param name="Phase">Loading or Warming.</param>
/// <param name="Message">What it is doing now.</param>
/// <param name="Elapsed">Time since the load started.</param>
public sealed record ModelLoadProgress(string Package, ModelPhase Phase, string Message, TimeSpan Elapsed);
