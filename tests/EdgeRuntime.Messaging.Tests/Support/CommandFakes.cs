using EdgeRuntime.Messaging.Commands;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>A configuration store that accepts every update and records it, or refuses with the problems it is given.</summary>
public sealed class RecordingConfigurationStore : IConfigurationStore
{
    private readonly List<IReadOnlyList<KeyValuePair<string, string>>> _updates = [];

    /// <summary>Problems to refuse with; empty = accept.</summary>
    public IReadOnlyList<string> Refuse { get; set; } = [];

    /// <summary>Thrown by <see cref="Update"/> when set (a file that cannot be written).</summary>
    public Exception? Throw { get; set; }

    /// <summary>Keys reported as applied live.</summary>
    public ISet<string> LiveKeys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<IReadOnlyList<KeyValuePair<string, string>>> Updates
    {
        get
        {
            lock (_updates)
            {
                return [.. _updates];
            }
        }
    }

    public ConfigurationUpdate Update(IReadOnlyList<KeyValuePair<string, string>> values)
    {
        if (Throw is not null)
        {
            throw Throw;
        }

        lock (_updates)
        {
            _updates.Add(values);
        }

        if (Refuse.Count > 0)
        {
            return ConfigurationUpdate.Refused(Refuse);
        }

        return new ConfigurationUpdate([], "/etc/edge-runtime/config.json",
            values.Select(v => new KeyValuePair<string, KeyApplication>(v.Key, LiveKeys.Contains(v.Key) ? KeyApplication.Live : KeyApplication.RestartRequired)).ToArray());
    }
}

/// <summary>Records restart requests instead of stopping anything.</summary>
public sealed class RecordingRestarter : IServiceRestarter
{
    private readonly List<TimeSpan> _requests = [];

    public bool RestartPending
    {
        get
        {
            lock (_requests)
            {
                return _requests.Count > 0;
            }
        }
    }

    public IReadOnlyList<TimeSpan> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public bool RequestRestart(TimeSpan delay, string reason)
    {
        lock (_requests)
        {
            if (_requests.Count > 0)
            {
                return false;
            }

            _requests.Add(delay);
            return true;
        }
    }
}
