using System.Device.Gpio;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Tests.Fakes;
using EdgeRuntime.Hardware.Triggers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRuntime.Hardware.Tests.Triggers;

public sealed class GpioTriggerTests
{
    private const int Line = 17;

    [Fact]
    public async Task EdgeBecomesATriggerStampedAtTheEdge()
    {
        var time = new FakeTimeProvider();
        var driver = new FakeGpioDriver();
        using GpioTrigger trigger = Create(driver, time, new GpioTriggerOptions { Line = Line, Edge = GpioEdge.Rising });
        await using IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> next = triggers.MoveNextAsync();
        Assert.Equal(PinMode.Input, driver.ModeOf(Line));
        Assert.Equal(PinEventTypes.Rising, driver.WatchedEdges(Line));

        time.Advance(TimeSpan.FromMilliseconds(7));
        long edgeAt = time.GetTimestamp();
        driver.RaiseEdge(Line, PinEventTypes.Rising);
        time.Advance(TimeSpan.FromMilliseconds(30));

        Assert.True(await next);
        Assert.Equal(edgeAt, triggers.Current.Timestamp);
        Assert.Equal("gpio", triggers.Current.Source);
        Assert.Equal(TriggerPacing.External, trigger.Pacing);
    }

    [Fact]
    public async Task EdgesWithinTheDebounceTimeAreCountedAsBounces()
    {
        var time = new FakeTimeProvider();
        var driver = new FakeGpioDriver();
        using GpioTrigger trigger = Create(driver, time, new GpioTriggerOptions { Line = Line, DebounceMs = 10 });
        await using IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> first = triggers.MoveNextAsync();

        long firstEdge = time.GetTimestamp();
        driver.RaiseEdge(Line, PinEventTypes.Rising);
        time.Advance(TimeSpan.FromMilliseconds(3));
        driver.RaiseEdge(Line, PinEventTypes.Rising);
        time.Advance(TimeSpan.FromMilliseconds(6));
        driver.RaiseEdge(Line, PinEventTypes.Rising);
        time.Advance(TimeSpan.FromMilliseconds(1));
        long secondEdge = time.GetTimestamp();
        driver.RaiseEdge(Line, PinEventTypes.Rising);

        Assert.True(await first);
        Assert.Equal(firstEdge, triggers.Current.Timestamp);
        Assert.True(await triggers.MoveNextAsync());
        Assert.Equal(secondEdge, triggers.Current.Timestamp);
        Assert.Equal(new GpioTriggerCounters(Accepted: 2, Bounced: 2, Lost: 0), trigger.Counters);
    }

    [Theory]
    [InlineData(GpioEdge.Rising, false, PinEventTypes.Rising)]
    [InlineData(GpioEdge.Rising, true, PinEventTypes.Falling)]
    [InlineData(GpioEdge.Falling, false, PinEventTypes.Falling)]
    [InlineData(GpioEdge.Falling, true, PinEventTypes.Rising)]
    public async Task ActiveLowLinesWatchTheOppositeElectricalEdge(GpioEdge edge, bool activeLow, PinEventTypes expected)
    {
        var driver = new FakeGpioDriver();
        using GpioTrigger trigger = Create(driver, new FakeTimeProvider(), new GpioTriggerOptions { Line = Line, Edge = edge, ActiveLow = activeLow });
        using var stop = new CancellationTokenSource();
        await using IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(stop.Token).GetAsyncEnumerator();
        ValueTask<bool> next = triggers.MoveNextAsync();

        Assert.Equal(expected, driver.WatchedEdges(Line));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next);
    }

    [Fact]
    public async Task PartsThatPassedBeforeThePipelineStartedAreNotReplayedAsStaleTriggers()
    {
        var time = new FakeTimeProvider();
        var driver = new FakeGpioDriver();
        using GpioTrigger trigger = Create(driver, time, new GpioTriggerOptions { Line = Line, DebounceMs = 0 });
        driver.RaiseEdge(Line, PinEventTypes.Rising);
        time.Advance(TimeSpan.FromSeconds(1));

        await using IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> next = triggers.MoveNextAsync();
        Assert.False(next.IsCompleted);
        long edgeAt = time.GetTimestamp();
        driver.RaiseEdge(Line, PinEventTypes.Rising);

        Assert.True(await next);
        Assert.Equal(edgeAt, triggers.Current.Timestamp);
    }

    [Fact]
    public async Task StoppingTheReaderStopsWatchingAndDisposingReleasesTheLineAndDriver()
    {
        var driver = new FakeGpioDriver();
        GpioTrigger trigger = Create(driver, new FakeTimeProvider(), new GpioTriggerOptions { Line = Line });
        using (var stop = new CancellationTokenSource())
        {
            IAsyncEnumerator<TriggerSignal> triggers = trigger.ReadAllAsync(stop.Token).GetAsyncEnumerator();
            ValueTask<bool> next = triggers.MoveNextAsync();
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await next);
            await triggers.DisposeAsync();
        }

        Assert.Equal(PinEventTypes.None, driver.WatchedEdges(Line));
        trigger.Dispose();
        Assert.False(driver.IsOpen(Line));
        Assert.True(driver.IsDisposed);
    }

    [Fact]
    public void LineThatCannotBeOpenedIsAStartUpErrorNamingIt()
    {
        var driver = new FakeGpioDriver { FailOpenWith = new IOException("Device or resource busy") };

        var error = Assert.Throws<InvalidOperationException>(() => Create(driver, new FakeTimeProvider(), new GpioTriggerOptions { Chip = 2, Line = Line }));

        Assert.Contains("gpiochip2:17", error.Message, StringComparison.Ordinal);
        Assert.Contains("Device or resource busy", error.Message, StringComparison.Ordinal);
        Assert.True(driver.IsDisposed);
    }

    [Fact]
    public void ValidatorRequiresALineWhenTheKindIsGpio()
    {
        var options = new TriggerOptions { Kind = TriggerKind.Gpio, Gpio = new GpioTriggerOptions { Line = -1, DebounceMs = -2 } };

        var result = new TriggerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Trigger:Gpio:Line = -1", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Trigger:Gpio:DebounceMs = -2", result.FailureMessage, StringComparison.Ordinal);
    }

    private static GpioTrigger Create(FakeGpioDriver driver, TimeProvider time, GpioTriggerOptions gpio) =>
        new(Options.Create(new TriggerOptions { Kind = TriggerKind.Gpio, Gpio = gpio }), driver, time, new ListLogger<GpioTrigger>());
}
