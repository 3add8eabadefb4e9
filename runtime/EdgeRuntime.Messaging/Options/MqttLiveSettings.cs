using System.Globalization;
using EdgeRuntime.Messaging.Commands;

namespace EdgeRuntime.Messaging.Options;

/// <summary>
/// The <c>Mqtt</c> keys the running service applies without a restart: <c>Mqtt:HealthIntervalSeconds</c> (the health
/// loop re-arms its timer at once). Every other key is read once at start-up. Thread-safe.
/// </summary>
public sealed class MqttLiveSettings : ILiveConfigurable
{
    /// <summary>The key of <see cref="HealthInterval"/>.</summary>
    public const string HealthIntervalKey = MqttOptions.SectionName + ":" + nameof(MqttOptions.HealthIntervalSeconds);

    private readonly Lock _gate = new();
    private readonly List<Action<TimeSpan>> _listeners = [];
    private int _healthIntervalSeconds;

    /// <param name="options">The start-up values.</param>
    public MqttLiveSettings(MqttOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _healthIntervalSeconds = options.HealthIntervalSeconds;
    }

    /// <summary>Seconds between health messages (also their message expiry).</summary>
    public int HealthIntervalSeconds => Volatile.Read(ref _healthIntervalSeconds);

    /// <summary>The period between health messages.</summary>
    public TimeSpan HealthInterval => TimeSpan.FromSeconds(HealthIntervalSeconds);

    /// <summary>Calls <paramref name="listener"/> with each new health interval until the returned handle is disposed; never after.</summary>
    public IDisposable OnHealthIntervalChanged(Action<TimeSpan> listener)
    {
        lock (_gate)
        {
            _listeners.Add(listener);
        }

        return new Subscription(this, listener);
    }

    /// <inheritdoc />
    public bool TryApplyLive(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!string.Equals(key, HealthIntervalKey, StringComparison.OrdinalIgnoreCase)
            || !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seconds) || seconds < 1)
        {
            return false;
        }

        lock (_gate)
        {
            Volatile.Write(ref _healthIntervalSeconds, seconds);
            foreach (Action<TimeSpan> listener in _listeners)
            {
                listener(TimeSpan.FromSeconds(seconds));
            }
        }

        return true;
    }

    private sealed class Subscription(MqttLiveSettings owner, Action<TimeSpan> listener) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._listeners.Remove(listener);
            }
        }
    }
}
