using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Outputs;
using EdgeRuntime.Hardware.Tests.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRuntime.Hardware.Tests.Outputs;

public sealed class RejectOutputSinkTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ListLogger<RejectOutputSink> _log = new();

    [Fact]
    public async Task FailPulsesTheOutputAtTriggerPlusDelayForThePulseLength()
    {
        var output = new InMemoryDigitalOutput(_time);
        using RejectOutputSink sink = Create(output, delayMs: 300, pulseMs: 50);
        long trigger = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(120));

        await sink.PublishAsync(Result(Verdict.Fail, trigger), null, CancellationToken.None);

        Assert.False(output.IsActive);
        _time.Advance(TimeSpan.FromMilliseconds(179));
        Assert.False(output.IsActive, "the pulse started before the part reached the gate");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(output.IsActive);
        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.True(output.IsActive);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(output.IsActive);

        Assert.Equal([new OutputChange(trigger + Ticks(300), true), new OutputChange(trigger + Ticks(350), false)], output.History);
        Assert.Equal(new RejectCounters(Requested: 1, Pulses: 1, Merged: 0, Late: 0, Overflowed: 0, Pending: 0), sink.Counters);
        Assert.Equal(0, _log.CountAtLeast(LogLevel.Warning));
    }

    [Fact]
    public async Task PassVerdictsNeverPulse()
    {
        var output = new InMemoryDigitalOutput(_time);
        using RejectOutputSink sink = Create(output, delayMs: 100, pulseMs: 50);

        await sink.PublishAsync(Result(Verdict.Pass, _time.GetTimestamp()), null, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(0, output.Activations);
        Assert.Equal(0, sink.Counters.Requested);
    }

    [Fact]
    public async Task VerdictAfterThePartReachedTheGatePulsesAtOnceAndIsCountedLate()
    {
        var output = new InMemoryDigitalOutput(_time);
        using RejectOutputSink sink = Create(output, delayMs: 300, pulseMs: 50);
        long trigger = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(420));

        await sink.PublishAsync(Result(Verdict.Fail, trigger), null, CancellationToken.None);

        Assert.True(output.IsActive);
        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.True(output.IsActive);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(output.IsActive);
        Assert.Equal(1, sink.Counters.Late);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("120.0 ms", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OverlappingRejectsMergeIntoOneLongerActivation()
    {
        var output = new InMemoryDigitalOutput(_time);
        using RejectOutputSink sink = Create(output, delayMs: 300, pulseMs: 50);
        long first = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(20));
        long second = _time.GetTimestamp();

        // Published out of trigger order, as a fail-safe verdict may overtake an inspected one.
        await sink.PublishAsync(Result(Verdict.Fail, second), null, CancellationToken.None);
        await sink.PublishAsync(Result(Verdict.Fail, first), null, CancellationToken.None);

        // Fake timers fire at the end of each advance, so time moves from one scheduled moment to the next.
        _time.Advance(TimeSpan.FromMilliseconds(280));
        Assert.True(output.IsActive);
        _time.Advance(TimeSpan.FromMilliseconds(20));
        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.True(output.IsActive, "the second reject cut the merged activation short");
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal([new OutputChange(first + Ticks(300), true), new OutputChange(second + Ticks(350), false)], output.History);
        Assert.Equal(new RejectCounters(Requested: 2, Pulses: 1, Merged: 1, Late: 0, Overflowed: 0, Pending: 0), sink.Counters);
    }

    [Fact]
    public async Task DisabledRejectNeverTouchesTheOutput()
    {
        var output = new InMemoryDigitalOutput(_time);
        using RejectOutputSink sink = Create(output, delayMs: 0, pulseMs: 50, enabled: false);

        await sink.PublishAsync(Result(Verdict.Fail, _time.GetTimestamp()), null, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Empty(output.History);
    }

    [Fact]
    public async Task FailingOutputStopsThePipelineAtTheNextPublish()
    {
        var output = new BrokenOutput();
        using RejectOutputSink sink = Create(output, delayMs: 100, pulseMs: 50);
        await sink.PublishAsync(Result(Verdict.Fail, _time.GetTimestamp()), null, CancellationToken.None);

        _time.Advance(TimeSpan.FromMilliseconds(100));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await sink.PublishAsync(Result(Verdict.Fail, _time.GetTimestamp()), null, CancellationToken.None));
        Assert.Contains("broken", error.Message, StringComparison.Ordinal);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Critical);
    }

    [Fact]
    public async Task DisposingDuringAPulseLeavesTheOutputInactive()
    {
        var output = new InMemoryDigitalOutput(_time);
        RejectOutputSink sink = Create(output, delayMs: 0, pulseMs: 500);
        await sink.PublishAsync(Result(Verdict.Fail, _time.GetTimestamp()), null, CancellationToken.None);
        Assert.True(output.IsActive);

        sink.Dispose();

        Assert.False(output.IsActive);
    }

    [Fact]
    public void ValidatorRefusesADelayShorterThanThePipelineDeadline()
    {
        var validator = new RejectOptionsValidator(Options.Create(new PipelineOptions { DeadlineMs = 2000 }));
        var options = new RejectOptions { DelayMs = 1500, PulseMs = 0, Output = new DigitalOutputOptions { Kind = DigitalOutputKind.Gpio, Line = -1 } };

        var result = validator.Validate(null, options);

        Assert.Contains("Reject:DelayMs = 1500: must be at least Pipeline:DeadlineMs (2000)", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Reject:PulseMs = 0", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Reject:Output:Line = -1", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(validator.Validate(null, new RejectOptions()).Succeeded);
    }

    private long Ticks(int milliseconds) => milliseconds * _time.TimestampFrequency / 1000;

    private static InspectionResult Result(Verdict verdict, long triggerTimestamp)
    {
        var result = new InspectionResult { Verdict = verdict, Sequence = 1 };
        result.Trigger = new TriggerSignal(DateTimeOffset.UnixEpoch, triggerTimestamp, "test");
        return result;
    }

    private RejectOutputSink Create(IDigitalOutput output, int delayMs, int pulseMs, bool enabled = true) =>
        new(Options.Create(new RejectOptions { Enabled = enabled, DelayMs = delayMs, PulseMs = pulseMs }), output, _time, _log);

    private sealed class BrokenOutput : IDigitalOutput
    {
        public string Name => "broken";

        public void Write(bool active) => throw new DigitalOutputException("output broken: line went away");
    }
}
