using System.Device.Gpio;

namespace EdgeRuntime.Hardware.Tests.Fakes;

/// <summary>An in-memory GPIO chip: records what the controller asked for and raises edges on request.</summary>
internal sealed class FakeGpioDriver : GpioDriver
{
    private readonly Lock _gate = new();
    private readonly Dictionary<int, PinMode> _open = [];
    private readonly Dictionary<int, PinValue> _values = [];
    private readonly List<(int Pin, PinEventTypes Types, PinChangeEventHandler Handler)> _callbacks = [];
    private readonly List<(int Pin, PinValue Value)> _writes = [];

    /// <summary>When set, writes throw this (a chip that went away).</summary>
    public Exception? FailWritesWith { get; set; }

    /// <summary>When set, opening a pin throws this (a line held by another process).</summary>
    public Exception? FailOpenWith { get; set; }

    public bool IsDisposed { get; private set; }

    public IReadOnlyList<(int Pin, PinValue Value)> Writes
    {
        get
        {
            lock (_gate)
            {
                return [.. _writes];
            }
        }
    }

    public bool IsOpen(int pin)
    {
        lock (_gate)
        {
            return _open.ContainsKey(pin);
        }
    }

    public PinMode ModeOf(int pin)
    {
        lock (_gate)
        {
            return _open[pin];
        }
    }

    public PinValue ValueOf(int pin)
    {
        lock (_gate)
        {
            return _values[pin];
        }
    }

    /// <summary>The edges subscribed on <paramref name="pin"/> (none when nobody watches it).</summary>
    public PinEventTypes WatchedEdges(int pin)
    {
        lock (_gate)
        {
            PinEventTypes types = PinEventTypes.None;
            foreach ((int p, PinEventTypes t, _) in _callbacks)
            {
                if (p == pin)
                {
                    types |= t;
                }
            }

            return types;
        }
    }

    /// <summary>Simulates an electrical edge, calling the callbacks on the caller's thread as a driver's event thread would.</summary>
    public void RaiseEdge(int pin, PinEventTypes edge)
    {
        List<PinChangeEventHandler> handlers = [];
        lock (_gate)
        {
            foreach ((int p, PinEventTypes types, PinChangeEventHandler handler) in _callbacks)
            {
                if (p == pin && (types & edge) != 0)
                {
                    handlers.Add(handler);
                }
            }
        }

        foreach (PinChangeEventHandler handler in handlers)
        {
            handler(this, new PinValueChangedEventArgs(edge, pin));
        }
    }

    protected override int PinCount => 64;

    protected override void OpenPin(int pinNumber)
    {
        lock (_gate)
        {
            if (FailOpenWith is not null)
            {
                throw FailOpenWith;
            }

            _open[pinNumber] = PinMode.Input;
            _values.TryAdd(pinNumber, PinValue.Low);
        }
    }

    protected override void ClosePin(int pinNumber)
    {
        lock (_gate)
        {
            _open.Remove(pinNumber);
        }
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        lock (_gate)
        {
            _open[pinNumber] = mode;
        }
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        lock (_gate)
        {
            return _open[pinNumber];
        }
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => mode is PinMode.Input or PinMode.Output;

    protected override PinValue Read(int pinNumber)
    {
        lock (_gate)
        {
            return _values[pinNumber];
        }
    }

    protected override void Write(int pinNumber, PinValue value)
    {
        lock (_gate)
        {
            if (FailWritesWith is not null)
            {
                throw FailWritesWith;
            }

            _values[pinNumber] = value;
            _writes.Add((pinNumber, value));
        }
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the fake raises edges through callbacks only");

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            _callbacks.Add((pinNumber, eventTypes, callback));
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            _callbacks.RemoveAll(c => c.Pin == pinNumber && c.Handler == callback);
        }
    }

    protected override void Dispose(bool disposing)
    {
        IsDisposed = true;
        base.Dispose(disposing);
    }
}
