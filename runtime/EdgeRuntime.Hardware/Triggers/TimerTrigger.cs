using System.Runtime.CompilerServices;
using EdgeRuntime.Core.Triggers;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Hardware.Triggers;

/// <summary>
/// Fires every <see cref="TriggerOptions.IntervalMs"/> on the injected <see cref="TimeProvider"/>, whether or
/// not the pipeline has room: it stands in for a line moving parts past the camera at constant speed.
/// Ticks the reader is too slow for are coalesced by <see cref="PeriodicTimer"/> rather than queued, so a stalled
/// reader never meets a burst of stale triggers. <see cref="ReadAllAsync"/> may be enumerated once at a time.
/// </summary>
public sealed class TimerTrigger : ITriggerSource
{
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;

    public TimerTrigger(IOptions<TriggerOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Value.IntervalMs);
        _interval = TimeSpan.FromMilliseconds(options.Value.IntervalMs);
        _time = timeProvider;
    }

    /// <inheritdoc />
    public string Name => "timer";

    /// <inheritdoc />
    public TriggerPacing Pacing => TriggerPacing.External;

    /// <summary>The time between triggers.</summary>
    public TimeSpan Interval => _interval;

    /// <summary>
    /// Yields one trigger per interval, the first one interval after enumeration starts, until
    /// <paramref name="cancellationToken"/> is cancelled (which throws <see cref="OperationCanceledException"/>).
    /// </summary>
    public async IAsyncEnumerable<TriggerSignal> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new TriggerSignal(_time.GetUtcNow(), _time.GetTimestamp(), Name);
        }
    }
}
