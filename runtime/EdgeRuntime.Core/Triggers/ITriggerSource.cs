namespace EdgeRuntime.Core.Triggers;

/// <summary>How a trigger source paces the pipeline.</summary>
public enum TriggerPacing
{
    /// <summary>Triggers come from the outside world (a sensor, a timer, an API call) whether or not the pipeline has room.</summary>
    External,

    /// <summary>A trigger is produced whenever the pipeline has room for another frame (free-run).</summary>
    OnDemand,
}

/// <summary>
/// Where triggers come from: a GPIO line, a timer, free-run, or a software request.
/// <see cref="ReadAllAsync"/> is called once, by the trigger stage, and enumerated from one thread.
/// </summary>
public interface ITriggerSource
{
    /// <summary>Short name used in results and logs (e.g. <c>timer</c>, <c>gpio</c>).</summary>
    string Name { get; }

    /// <summary>Whether the source follows the outside world or the pipeline's demand.</summary>
    TriggerPacing Pacing { get; }

    /// <summary>Yields triggers until <paramref name="cancellationToken"/> is cancelled or the source ends.</summary>
    IAsyncEnumerable<TriggerSignal> ReadAllAsync(CancellationToken cancellationToken);
}
