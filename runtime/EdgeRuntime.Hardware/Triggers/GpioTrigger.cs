using System.Device.Gpio;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Gpio;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Hardware.Triggers;

/// <summary>
/// Fires on an edge of a GPIO input line (a light barrier, a PLC output) through <see cref="GpioController"/>.
/// The driver is injected (on a Jetson: <c>new LibGpiodDriver(chip)</c>; in tests an in-memory
/// <see cref="GpioDriver"/>), and the trigger takes ownership of it: disposing the trigger releases the line and
/// disposes the driver.
/// </summary>
/// <remarks>
/// <para>The trigger time is taken in the driver's event callback, before anything else happens, on the injected
/// <see cref="TimeProvider"/>. Debouncing is a lockout: the first edge fires at once and edges within
/// <see cref="GpioTriggerOptions.DebounceMs"/> after it are counted as bounces, so it adds no latency.</para>
/// <para>Edges are only watched while <see cref="ReadAllAsync"/> is being enumerated, so parts that passed before
/// the pipeline started do not turn into stale triggers. At most <see cref="Backlog"/> triggers wait for the reader;
/// beyond that an edge is counted and logged as lost (the pipeline reads triggers without waiting, so this means it is stuck).</para>
/// <para>Threading: driver callbacks may come from any thread; <see cref="ReadAllAsync"/> is enumerated once at a time.</para>
/// </remarks>
public sealed partial class GpioTrigger : ITriggerSource, IDisposable
{
    /// <summary>Triggers that may wait for the reader.</summary>
    public const int Backlog = 64;

    private const long NoEdge = long.MinValue;

    private readonly GpioController _controller;
    private readonly int _line;
    private readonly PinEventTypes _edge;
    private readonly long _debounceTicks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _lineName;
    private readonly Lock _gate = new();
    private readonly PinChangeEventHandler _handler;
    private readonly Channel<TriggerSignal> _signals = Channel.CreateBounded<TriggerSignal>(
        new BoundedChannelOptions(Backlog) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private long _lastAccepted = NoEdge;
    private long _accepted;
    private long _bounced;
    private long _lost;
    private bool _disposed;

    /// <summary>Opens the configured line as an input.</summary>
    /// <param name="options">The <c>Trigger</c> section; its <c>Gpio</c> subsection is used.</param>
    /// <param name="driver">The chip's driver; owned by the trigger from now on, disposed even when opening fails.</param>
    /// <param name="timeProvider">Clock for trigger times and debouncing.</param>
    /// <param name="logger">Logger.</param>
    /// <exception cref="InvalidOperationException">The line cannot be opened as an input (the message names it).</exception>
    public GpioTrigger(IOptions<TriggerOptions> options, GpioDriver driver, TimeProvider timeProvider, ILogger<GpioTrigger> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        GpioTriggerOptions gpio = options.Value.Gpio;
        _controller = new GpioController(driver);
        _line = gpio.Line;
        _lineName = $"gpiochip{gpio.Chip}:{gpio.Line}";
        _edge = GpioLevels.ToPinEvent(becomesActive: gpio.Edge == GpioEdge.Rising, gpio.ActiveLow);
        _debounceTicks = (long)Math.Round(gpio.DebounceMs * (double)timeProvider.TimestampFrequency / 1000.0);
        _time = timeProvider;
        _logger = logger;
        _handler = OnEdge;
        try
        {
            ArgumentOutOfRangeException.ThrowIfNegative(gpio.Line);
            ArgumentOutOfRangeException.ThrowIfNegative(gpio.DebounceMs);
            _controller.OpenPin(_line, PinMode.Input);
        }
        catch (Exception ex) when (GpioLevels.IsDriverFailure(ex))
        {
            _controller.Dispose();
            throw new InvalidOperationException($"GPIO trigger {_lineName}: the line cannot be opened as an input: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public string Name => "gpio";

    /// <inheritdoc />
    public TriggerPacing Pacing => TriggerPacing.External;

    /// <summary>Counts so far.</summary>
    public GpioTriggerCounters Counters
    {
        get
        {
            lock (_gate)
            {
                return new GpioTriggerCounters(_accepted, _bounced, _lost);
            }
        }
    }

    /// <summary>Watches the line and yields one trigger per accepted edge until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <exception cref="InvalidOperationException">The driver refused to watch the line.</exception>
    public async IAsyncEnumerable<TriggerSignal> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            _controller.RegisterCallbackForPinValueChangedEvent(_line, _edge, _handler);
        }
        catch (Exception ex) when (GpioLevels.IsDriverFailure(ex))
        {
            throw new InvalidOperationException($"GPIO trigger {_lineName}: the line cannot be watched for {_edge} edges: {ex.Message}", ex);
        }

        Log.Watching(_logger, _lineName, _edge, _debounceTicks * 1000.0 / _time.TimestampFrequency);
        try
        {
            ChannelReader<TriggerSignal> reader = _signals.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out TriggerSignal signal))
                {
                    yield return signal;
                }
            }
        }
        finally
        {
            StopWatching();
        }
    }

    private void StopWatching()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _controller.UnregisterCallbackForPinValueChangedEvent(_line, _handler);
            }
        }
    }

    private void OnEdge(object sender, PinValueChangedEventArgs args)
    {
        // Both clocks first: everything after this is bookkeeping, and the timestamp is what the deadline counts from.
        long now = _time.GetTimestamp();
        DateTimeOffset utc = _time.GetUtcNow();
        bool lost;
        lock (_gate)
        {
            if (_lastAccepted != NoEdge && now - _lastAccepted < _debounceTicks)
            {
                _bounced++;
                return;
            }

            _lastAccepted = now;
            lost = !_signals.Writer.TryWrite(new TriggerSignal(utc, now, Name));
            if (lost)
            {
                _lost++;
            }
            else
            {
                _accepted++;
            }
        }

        if (lost)
        {
            Log.Lost(_logger, _lineName, Backlog);
        }
    }

    /// <summary>Stops watching, releases the line and disposes the controller and its driver.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _signals.Writer.TryComplete();
            _controller.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2000, LogLevel.Information, "GPIO trigger watching {Line} for {Edge} edges (debounce {DebounceMs} ms)")]
        public static partial void Watching(ILogger logger, string line, PinEventTypes edge, double debounceMs);

        [LoggerMessage(2001, LogLevel.Error, "GPIO trigger {Line}: an edge was lost because {Backlog} triggers are already waiting for the pipeline")]
        public static partial void Lost(ILogger logger, string line, int backlog);
    }
}

/// <summary>GPIO trigger counts.</summary>
/// <param name="Accepted">Edges that became triggers.</param>
/// <param name="Bounced">Edges ignored within the debounce time of an accepted one.</param>
/// <param name="Lost">Accepted edges lost because the backlog was full.</param>
public readonly record struct GpioTriggerCounters(long Accepted, long Bounced, long Lost);
