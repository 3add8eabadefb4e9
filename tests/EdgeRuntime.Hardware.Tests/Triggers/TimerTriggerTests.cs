using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Triggers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRuntime.Hardware.Tests.Triggers;

public sealed class TimerTriggerTests
{
    [Fact]
    public async Task TimerFiresOncePerIntervalOnTheInjectedClock()
    {
        var time = new FakeTimeProvider();
        var trigger = new TimerTrigger(Options.Create(new TriggerOptions { IntervalMs = 100 }), time);
        long start = time.GetTimestamp();
        await using IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();

        for (int tick = 1; tick <= 3; tick++)
        {
            ValueTask<bool> next = triggers.MoveNextAsync();
            time.Advance(TimeSpan.FromMilliseconds(99));
            Assert.False(next.IsCompleted, $"tick {tick} fired before its interval was up");
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(await next);
            TriggerSignal signal = triggers.Current;
            Assert.Equal(TimeSpan.FromMilliseconds(100 * tick), time.GetElapsedTime(start, signal.Timestamp));
            Assert.Equal(time.GetUtcNow(), signal.UtcTime);
            Assert.Equal("timer", signal.Source);
        }

        Assert.Equal(TriggerPacing.External, trigger.Pacing);
    }

    [Fact]
    public async Task CancellingTheTokenEndsTheTriggers()
    {
        var time = new FakeTimeProvider();
        var trigger = new TimerTrigger(Options.Create(new TriggerOptions { IntervalMs = 100 }), time);
        using var stop = new CancellationTokenSource();
        await using IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(stop.Token).GetAsyncEnumerator();
        ValueTask<bool> next = triggers.MoveNextAsync();

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next);
    }

    [Fact]
    public void ValidatorRefusesANonPositiveIntervalNamingTheKey()
    {
        var result = new TriggerOptionsValidator().Validate(null, new TriggerOptions { Kind = TriggerKind.Timer, IntervalMs = 0 });

        Assert.True(result.Failed);
        Assert.Contains("Trigger:IntervalMs = 0: must be between 1 and 3600000 milliseconds", result.FailureMessage, StringComparison.Ordinal);
    }
}
