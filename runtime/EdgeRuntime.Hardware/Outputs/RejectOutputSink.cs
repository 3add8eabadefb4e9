using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Hardware.Outputs;

/// <summary>
/// Pulses the reject output for every FAIL verdict, <see cref="RejectOptions.PulseMs"/> long, when the part reaches
/// the gate: <see cref="RejectOptions.DelayMs"/> after its trigger on the monotonic clock. A verdict that arrives
/// after that moment pulses at once and is counted as late. Pulses that overlap merge into one longer activation.
/// </summary>
/// <remarks>
/// <para><see cref="PublishAsync"/> never waits: it schedules the pulse on a <see cref="TimeProvider"/> timer and returns.
/// At most <see cref="MaxPendingPulses"/> pulses wait at a time; beyond that a reject is lost, counted and logged.</para>
/// <para>A failing output is a fault the line cannot run with: the next <see cref="PublishAsync"/> throws, which stops
/// the pipeline so the supervisor restarts the service.</para>
/// <para>Threading: <see cref="PublishAsync"/> is called by the publish stage; timer callbacks run on the thread pool;
/// both are serialised by one lock, so the output is never written concurrently. The sink does not own the output.</para>
/// </remarks>
public sealed partial class RejectOutputSink : IResultSink, IDisposable
{
    /// <summary>Pulses that may wait for their moment at once.</summary>
    public const int MaxPendingPulses = 256;

    private readonly IDigitalOutput _output;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _enabled;
    private readonly long _delayTicks;
    private readonly long _pulseTicks;
    private readonly long _earlyToleranceTicks;
    private readonly Lock _gate = new();
    private readonly PriorityQueue<long, long> _pending = new(MaxPendingPulses);
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;
    private bool _active;
    private long _activeUntil;
    private Exception? _fault;
    private bool _disposed;
    private long _requested;
    private long _pulses;
    private long _merged;
    private long _late;
    private long _overflowed;

    public RejectOutputSink(IOptions<RejectOptions> options, IDigitalOutput output, TimeProvider timeProvider, ILogger<RejectOutputSink> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        RejectOptions reject = options.Value;
        ArgumentOutOfRangeException.ThrowIfNegative(reject.DelayMs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reject.PulseMs);
        _output = output;
        _time = timeProvider;
        _logger = logger;
        _enabled = reject.Enabled;
        _delayTicks = ToTicks(reject.DelayMs);
        _pulseTicks = ToTicks(reject.PulseMs);

        // Real timers may wake a fraction of a millisecond early; treating that as due avoids a spin of re-arms.
        _earlyToleranceTicks = timeProvider.TimestampFrequency / 2000;
        _timer = timeProvider.CreateTimer(static state => ((RejectOutputSink)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Log.Ready(logger, output.Name, reject.Enabled, reject.DelayMs, reject.PulseMs);
    }

    /// <inheritdoc />
    public string Name => "reject";

    /// <summary>Counts so far; a consistent snapshot.</summary>
    public RejectCounters Counters
    {
        get
        {
            lock (_gate)
            {
                return new RejectCounters(_requested, _pulses, _merged, _late, _overflowed, _pending.Count);
            }
        }
    }

    /// <summary>Schedules a reject pulse for a FAIL verdict; ignores PASS. Never waits.</summary>
    /// <exception cref="InvalidOperationException">The output failed earlier; the service must stop.</exception>
    public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!_enabled || result.Verdict != Verdict.Fail)
        {
            return ValueTask.CompletedTask;
        }

        long lateTicks = 0;
        bool overflow = false;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ThrowIfFaulted();
            _requested++;
            long now = _time.GetTimestamp();
            long due = result.Trigger.Timestamp + _delayTicks;
            if (due < now)
            {
                lateTicks = now - due;
                _late++;
                due = now;
            }

            if (_pending.Count >= MaxPendingPulses)
            {
                _overflowed++;
                overflow = true;
            }
            else
            {
                _pending.Enqueue(due, due);
            }

            Pump(now);
            ThrowIfFaulted();
        }

        if (overflow)
        {
            Log.Overflow(_logger, result.Sequence, MaxPendingPulses);
        }
        else if (lateTicks > 0)
        {
            Log.Late(_logger, result.Sequence, lateTicks * 1000.0 / _time.TimestampFrequency);
        }

        return ValueTask.CompletedTask;
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            _armedFor = long.MaxValue;
            if (!_disposed)
            {
                Pump(_time.GetTimestamp());
            }
        }
    }

    // Called under the lock: starts every pulse that is due, ends the activation when its time is up, re-arms.
    private void Pump(long now)
    {
        while (_pending.TryPeek(out long start, out _) && start <= now + _earlyToleranceTicks)
        {
            _pending.Dequeue();
            if (_active)
            {
                _merged++;
            }
            else
            {
                _active = true;
                _pulses++;
                Write(true);
            }

            // Measured from now, not from the scheduled start, so a timer that wakes late still gives a full-width pulse.
            _activeUntil = Math.Max(_activeUntil, now + _pulseTicks);
        }

        if (_active && _activeUntil <= now + _earlyToleranceTicks)
        {
            _active = false;
            Write(false);
        }

        long next = _pending.TryPeek(out long nextStart, out _) ? nextStart : long.MaxValue;
        if (_active)
        {
            next = Math.Min(next, _activeUntil);
        }

        if (next == _armedFor)
        {
            return;
        }

        _armedFor = next;
        _timer.Change(next == long.MaxValue ? Timeout.InfiniteTimeSpan : _time.GetElapsedTime(now, Math.Max(now, next)), Timeout.InfiniteTimeSpan);
    }

    private void Write(bool active)
    {
        try
        {
            _output.Write(active);
        }
        catch (DigitalOutputException ex)
        {
            // Raised from a timer callback there is no caller to throw to; the next publish stops the pipeline.
            _fault ??= ex;
            Log.OutputFailed(_logger, ex, _output.Name);
        }
    }

    private void ThrowIfFaulted()
    {
        if (_fault is not null)
        {
            throw new InvalidOperationException($"the reject output {_output.Name} failed; parts can no longer be rejected: {_fault.Message}", _fault);
        }
    }

    private long ToTicks(int milliseconds) => (long)Math.Round(milliseconds * (double)_time.TimestampFrequency / 1000.0);

    /// <summary>Stops the timer and leaves the output inactive; pending pulses are abandoned (and logged). The output is not disposed.</summary>
    public void Dispose()
    {
        int abandoned;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _timer.Dispose();
            abandoned = _pending.Count;
            _pending.Clear();
            if (_active)
            {
                _active = false;
                Write(false);
            }
        }

        if (abandoned > 0)
        {
            Log.Abandoned(_logger, abandoned);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2200, LogLevel.Information, "Reject output {Output}: enabled {Enabled}, pulse {PulseMs} ms at trigger + {DelayMs} ms")]
        public static partial void Ready(ILogger logger, string output, bool enabled, int delayMs, int pulseMs);

        [LoggerMessage(2201, LogLevel.Warning, "Reject for seq {Sequence} came {LateMs:F1} ms after its part reached the gate; pulsed at once")]
        public static partial void Late(ILogger logger, long sequence, double lateMs);

        [LoggerMessage(2202, LogLevel.Error, "Reject for seq {Sequence} lost: {Capacity} pulses are already waiting")]
        public static partial void Overflow(ILogger logger, long sequence, int capacity);

        [LoggerMessage(2203, LogLevel.Critical, "Reject output {Output} failed")]
        public static partial void OutputFailed(ILogger logger, Exception exception, string output);

        [LoggerMessage(2204, LogLevel.Warning, "Reject output stopped with {Count} pulses still scheduled")]
        public static partial void Abandoned(ILogger logger, int count);
    }
}

/// <summary>Reject output counts.</summary>
/// <param name="Requested">FAIL verdicts seen.</param>
/// <param name="Pulses">Separate activations of the output.</param>
/// <param name="Merged">Rejects that fell into an activation already under way (their parts were close together).</param>
/// <param name="Late">Rejects whose verdict came after the part reached the gate; pulsed at once.</param>
/// <param name="Overflowed">Rejects lost because <see cref="RejectOutputSink.MaxPendingPulses"/> were already waiting.</param>
/// <param name="Pending">Pulses waiting for their moment now.</param>
public readonly record struct RejectCounters(long Requested, long Pulses, long Merged, long Late, long Overflowed, int Pending);
