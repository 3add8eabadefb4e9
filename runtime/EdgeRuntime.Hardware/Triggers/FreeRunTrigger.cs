using System.Runtime.CompilerServices;
using EdgeRuntime.Core.Triggers;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Hardware.Triggers;

/// <summary>
/// Fires whenever the pipeline asks for the next frame (<see cref="TriggerPacing.OnDemand"/>): the pipeline only
/// asks when it has room, so nothing is dropped and throughput is whatever the slowest stage allows. With
/// <see cref="TriggerOptions.MaxRateHz"/> above zero, triggers are spaced at least <c>1 / MaxRateHz</c> apart
/// on the injected <see cref="TimeProvider"/>. <see cref="ReadAllAsync"/> may be enumerated once at a time.
/// </summary>
public sealed class FreeRunTrigger : ITriggerSource
{
    private readonly TimeProvider _time;
    private readonly long _minSpacingTicks;

    public FreeRunTrigger(IOptions<TriggerOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        double maxRateHz = options.Value.MaxRateHz;
        ArgumentOutOfRangeException.ThrowIfNegative(maxRateHz);
        _time = timeProvider;
        _minSpacingTicks = maxRateHz > 0 ? (long)Math.Ceiling(timeProvider.TimestampFrequency / maxRateHz) : 0;
    }

    /// <inheritdoc />
    public string Name => "free-run";

    /// <inheritdoc />
    public TriggerPacing Pacing => TriggerPacing.OnDemand;

    /// <summary>
    /// Yields a trigger each time it is asked, waiting only as long as the rate cap requires, until
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async IAsyncEnumerable<TriggerSignal> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long earliest = long.MinValue;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long now = _time.GetTimestamp();
            if (_minSpacingTicks > 0 && now < earliest)
            {
                await Task.Delay(_time.GetElapsedTime(now, earliest), _time, cancellationToken).ConfigureAwait(false);
                now = _time.GetTimestamp();
            }

            // Spacing is measured from the previous trigger, not from a fixed grid: after a slow frame the next
            // one may follow at once, but two never come closer together than the cap allows.
            earliest = now + _minSpacingTicks;
            yield return new TriggerSignal(_time.GetUtcNow(), now, Name);
        }
    }
}
