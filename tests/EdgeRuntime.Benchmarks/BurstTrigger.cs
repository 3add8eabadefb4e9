using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Triggers;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// The service's <see cref="FreeRunTrigger"/> behind a gate of credits: it fires as the free-run trigger does (on
/// demand, at its rate cap) but only as many times as <see cref="Release"/> allowed. Between bursts the pipeline goes
/// idle and costs nothing, so one warm pipeline serves every round while the other side of a comparison runs alone.
/// <see cref="ReadAllAsync"/> is enumerated by the pipeline's trigger stage; <see cref="Release"/> and
/// <see cref="End"/> may be called from any thread.
/// </summary>
internal sealed class BurstTrigger(FreeRunTrigger freeRun) : ITriggerSource
{
    private readonly Channel<bool> _credits = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleReader = true });

    public string Name => freeRun.Name;

    public TriggerPacing Pacing => TriggerPacing.OnDemand;

    /// <summary>Allows <paramref name="count"/> more triggers.</summary>
    public void Release(int count)
    {
        for (int i = 0; i < count; i++)
        {
            _credits.Writer.TryWrite(true);
        }
    }

    /// <summary>Ends the trigger stream once the credits given are used up (the pipeline then stops taking triggers).</summary>
    public void End() => _credits.Writer.TryComplete();

    public async IAsyncEnumerable<TriggerSignal> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IAsyncEnumerator<TriggerSignal> triggers = freeRun.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (triggers.ConfigureAwait(false))
        {
            // The wait takes no token: a cancellable channel wait allocates each time it waits, which would show up in
            // the allocation figures; End() finishes the wait instead.
            while (await _credits.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (!_credits.Reader.TryRead(out _))
                {
                    continue;
                }

                // The free-run trigger stamps the signal now, after the credit: the burst's clock starts at its trigger.
                if (!await triggers.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }

                yield return triggers.Current;
            }
        }
    }
}
