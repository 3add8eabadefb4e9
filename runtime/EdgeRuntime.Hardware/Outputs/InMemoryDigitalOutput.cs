namespace EdgeRuntime.Hardware.Outputs;

/// <summary>
/// An output with no hardware behind it (<c>Reject:Output:Kind = None</c>, simulations, tests): it remembers its
/// state, counts activations and keeps the last <see cref="HistoryCapacity"/> changes with their monotonic
/// timestamps, so the diagnostics page and tests can see what a real line would have done. Thread-safe.
/// </summary>
public sealed class InMemoryDigitalOutput : IDigitalOutput
{
    /// <summary>Changes kept in <see cref="History"/>.</summary>
    public const int HistoryCapacity = 256;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly OutputChange[] _history = new OutputChange[HistoryCapacity];
    private int _historyStart;
    private int _historyCount;
    private bool _active;
    private long _activations;

    public InMemoryDigitalOutput(TimeProvider timeProvider, string name = "memory")
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _time = timeProvider;
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Whether the line is active now.</summary>
    public bool IsActive
    {
        get
        {
            lock (_gate)
            {
                return _active;
            }
        }
    }

    /// <summary>Inactive-to-active changes so far.</summary>
    public long Activations
    {
        get
        {
            lock (_gate)
            {
                return _activations;
            }
        }
    }

    /// <summary>A copy of the most recent state changes, oldest first (writes that did not change the state are not listed).</summary>
    public IReadOnlyList<OutputChange> History
    {
        get
        {
            lock (_gate)
            {
                var copy = new OutputChange[_historyCount];
                for (int i = 0; i < _historyCount; i++)
                {
                    copy[i] = _history[(_historyStart + i) % HistoryCapacity];
                }

                return copy;
            }
        }
    }

    /// <inheritdoc />
    public void Write(bool active)
    {
        lock (_gate)
        {
            if (active == _active)
            {
                return;
            }

            _active = active;
            if (active)
            {
                _activations++;
            }

            var change = new OutputChange(_time.GetTimestamp(), active);
            if (_historyCount < HistoryCapacity)
            {
                _history[(_historyStart + _historyCount++) % HistoryCapacity] = change;
            }
            else
            {
                _history[_historyStart] = change;
                _historyStart = (_historyStart + 1) % HistoryCapacity;
            }
        }
    }
}

/// <summary>A state change of an output.</summary>
/// <param name="Timestamp">Monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the change.</param>
/// <param name="Active">The new state.</param>
public readonly record struct OutputChange(long Timestamp, bool Active);
