using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Triggers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRuntime.Hardware.Tests.Triggers;

public sealed class FreeRunTriggerTests
{
    [Fact]
    public async Task UncappedFreeRunYieldsAtOnceEachTimeItIsAsked()
    {
        var time = new FakeTimeProvider();
        var trigger = new FreeRunTrigger(Options.Create(new TriggerOptions { Kind = TriggerKind.FreeRun }), time);
        await using IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();

        for (int i = 0; i < 100; i++)
        {
            ValueTask<bool> next = triggers.MoveNextAsync();
            Assert.True(next.IsCompletedSuccessfully, $"request {i} waited although no time passed and nothing caps the rate");
            Assert.True(await next);
            Assert.Equal(time.GetTimestamp(), triggers.Current.Timestamp);
        }

        Assert.Equal(TriggerPacing.OnDemand, trigger.Pacing);
        Assert.Equal("free-run", triggers.Current.Source);
    }

    [Fact]
    public async Task RateCapSpacesTriggersByItsPeriodButNeverMakesUpForASlowReader()
    {
        var time = new FakeTimeProvider();
        var trigger = new FreeRunTrigger(Options.Create(new TriggerOptions { Kind = TriggerKind.FreeRun, MaxRateHz = 20 }), time);
        await using IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();

        Assert.True(await triggers.MoveNextAsync());
        long first = triggers.Current.Timestamp;

        ValueTask<bool> second = triggers.MoveNextAsync();
        time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.False(second.IsCompleted, "the second trigger came sooner than 1/20 s after the first");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await second);
        Assert.Equal(TimeSpan.FromMilliseconds(50), time.GetElapsedTime(first, triggers.Current.Timestamp));

        // The reader was busy for 200 ms: the next trigger comes at once, the one after it a full period later.
        time.Advance(TimeSpan.FromMilliseconds(200));
        ValueTask<bool> third = triggers.MoveNextAsync();
        Assert.True(third.IsCompletedSuccessfully);
        long thirdAt = triggers.Current.Timestamp;
        ValueTask<bool> fourth = triggers.MoveNextAsync();
        Assert.False(fourth.IsCompleted, "a slow reader was paid back with a burst");
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.True(await fourth);
        Assert.Equal(TimeSpan.FromMilliseconds(50), time.GetElapsedTime(thirdAt, triggers.Current.Timestamp));
    }
}
