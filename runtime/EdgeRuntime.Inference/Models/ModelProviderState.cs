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

    /// <summary>
    /// A model is serving, but its last periodic golden check disagreed with the verdicts its package expects: an alarm
    /// for an operator (the model keeps serving; swapping in a good package or a passing check clears it).
    /// </summary>
    Degraded,

    /// <summary>No model is serving and the last load failed.</summary>
    Failed,
}

/// <summary>
/// A snapshot of the model provider for health and status: whether a model serves, which and on what provider, what is
/// loading beside it, and the last failure. Immutable.
/// </summary>
/// <param name="Phase">Ready (or Degraded) while a model serves, even while another loads beside it; otherwise the initial load's phase or Failed.</param>
/// <param name="Message">One line for an operator: what serves, why it is degraded, and what loads beside it (step i of n).</param>
/// <param name="Elapsed">Time since <paramref name="Phase"/> began.</param>
/// <param name="Active">The serving model; null when none.</param>
/// <param name="Providers">Which provider runs the serving model and why others were skipped; null when none serves.</param>
/// <param name="Load">A load in progress (the first load, or a swap beside the serving model); null when none.</param>
/// <param name="LastFailure">Why the most recent load failed; cleared by a successful load.</param>
/// <param name="Golden">The serving model's most recent golden check (at load or periodic); null when it has no golden samples or none ran.</param>
public sealed record ModelProviderState(
    ModelPhase Phase,
    string Message,
    TimeSpan Elapsed,
    ModelIdentity? Active,
    ProviderSelection? Providers,
    ModelLoadProgress? Load,
    string? LastFailure,
    GoldenCheckReport? Golden = null);

/// <summary>A load in progress: step <paramref name="Step"/> of <paramref name="StepCount"/>.</summary>
/// <param name="Package">The package folder being loaded.</param>
/// <param name="Phase">Loading or Warming.</param>
/// <param name="Message">What it is doing now: <c>step 2 of 4: creating the session (TensorRT: building the engine)</c>.</param>
/// <param name="Elapsed">Time since the load started.</param>
/// <param name="Step">The step under way, from 1.</param>
/// <param name="StepCount">How many steps a load has (<see cref="ModelLoadSteps.Count"/>).</param>
/// <param name="StepName">The step's name, e.g. <c>creating the session</c>.</param>
public sealed record ModelLoadProgress(string Package, ModelPhase Phase, string Message, TimeSpan Elapsed, int Step, int StepCount, string StepName);

/// <summary>The steps of every load, in order: each is reported as step i of <see cref="Count"/> while it runs.</summary>
public static class ModelLoadSteps
{
    /// <summary>Steps in a load.</summary>
    public const int Count = 4;

    /// <summary>Step 1: manifest, hashes (model and golden images) and signature.</summary>
    public const string Verify = "verifying the package";

    /// <summary>Step 2: graph check and session creation on the provider chain (a TensorRT engine build takes minutes).</summary>
    public const string CreateSession = "creating the session";

    /// <summary>Step 3: the warm-up inference.</summary>
    public const string Warmup = "warm-up inference";

    /// <summary>Step 4: the package's golden samples through the production preprocessing, model and postprocessing.</summary>
    public const string Golden = "checking golden samples";
}

/// <summary>One run of a model's golden samples. Immutable.</summary>
/// <param name="Model">The model checked.</param>
/// <param name="CheckedUtc">When the check finished.</param>
/// <param name="Samples">Golden samples run.</param>
/// <param name="Problems">One line per sample that disagreed (image, expected, got), or that could not be read; empty when all agreed.</param>
public sealed record GoldenCheckReport(ModelIdentity Model, DateTimeOffset CheckedUtc, int Samples, IReadOnlyList<string> Problems)
{
    /// <summary>Every sample got its expected verdict (and classes, where given).</summary>
    public bool Passed => Problems.Count == 0;

    /// <summary>One line: <c>12 golden samples agree</c> or the problems.</summary>
    public override string ToString() => Passed
        ? $"{Samples} golden sample(s) agree"
        : $"{Problems.Count} of {Samples} golden sample(s) disagree: {string.Join("; ", Problems)}";
}
