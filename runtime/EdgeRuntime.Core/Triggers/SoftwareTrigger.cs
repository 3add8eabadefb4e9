using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace EdgeRuntime.Core.Triggers;

/// <summary>
/// Triggers requested by software: the <c>capture</c> command over MQTT, the diagnostics page, tests.
/// <see cref="Fire"/> may be called from any thread. Requests beyond <paramref name="capacity"/>
/// unconsumed triggers are refused rather than queued without bound.
/// </summary>
public sealed class SoftwareTrigger(TimeProvider timeProvider, int capacity = 64) : ITriggerSource
{
    private readonly Channel<TriggerSignal> _requests = Channel.CreateBounded<TriggerSignal>(
        new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    /// <inheritdoc />
    public string Name => "software";

    /// <inheritdoc />
    public TriggerPacing Pacing => TriggerPacing.External;

    /// <summary>Fires a trigger now. Returns false when <c>capacity</c> requests are already waiting.</summary>
    public bool Fire(string? correlation = null) =>
        _requests.Writer.TryWrite(new TriggerSignal(timeProvider.GetUtcNow(), timeProvider.GetTimestamp(), Name, correlation));

    /// <inheritdoc />
    public async IAsyncEnumerable<TriggerSignal> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await _requests.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_requests.Reader.TryRead(out TriggerSignal signal))
            {
                yield return signal;
            }
        }
    }
}
