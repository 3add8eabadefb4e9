namespace EdgeRuntime.Messaging.Commands;

/// <summary>
/// Where <c>config/set</c> sends new values: the service's configuration file, validated exactly as start-up validates
/// it. Implemented by the host (which owns the file and the validators), so messaging does not depend on it. Called from
/// the connection service's command loop, one update at a time.
/// </summary>
public interface IConfigurationStore
{
    /// <summary>
    /// Validates <paramref name="values"/> together with the rest of the configuration; with any problem, refuses all of
    /// them and changes nothing. Otherwise persists them atomically and applies those the running service can apply
    /// without a restart.
    /// </summary>
    /// <param name="values">Configuration paths (<c>Section:Key</c>) and their new values, as the configuration binder reads them.</param>
    ConfigurationUpdate Update(IReadOnlyList<KeyValuePair<string, string>> values);
}

/// <summary>How one key of an accepted update took effect.</summary>
public enum KeyApplication
{
    /// <summary>Persisted and already in effect.</summary>
    Live,

    /// <summary>Persisted; takes effect at the next start.</summary>
    RestartRequired,
}

/// <summary>What <see cref="IConfigurationStore.Update"/> did.</summary>
/// <param name="Problems">Every problem found (each naming the key, the value and what is allowed); empty when accepted.</param>
/// <param name="File">The file written (null when refused).</param>
/// <param name="Keys">Per key, how it took effect (empty when refused).</param>
public sealed record ConfigurationUpdate(IReadOnlyList<string> Problems, string? File, IReadOnlyList<KeyValuePair<string, KeyApplication>> Keys)
{
    /// <summary>Whether the update was accepted and persisted.</summary>
    public bool Accepted => Problems.Count == 0;

    /// <summary>A refused update.</summary>
    public static ConfigurationUpdate Refused(IReadOnlyList<string> problems) => new(problems, null, []);
}

/// <summary>
/// A component that takes some configuration keys while running, so <c>config/set</c> reports them as applied live. Only
/// a key whose new value is really in effect when <see cref="TryApplyLive"/> returns may be accepted. Thread-safe.
/// </summary>
public interface ILiveConfigurable
{
    /// <summary>Applies <paramref name="value"/> (already validated) to <paramref name="key"/>; false when this component does not take the key live.</summary>
    bool TryApplyLive(string key, string value);
}

/// <summary>Stops the service gracefully so its supervisor (systemd) starts it again. Implemented by the host; thread-safe.</summary>
public interface IServiceRestarter
{
    /// <summary>Whether a restart is already scheduled.</summary>
    bool RestartPending { get; }

    /// <summary>Schedules a graceful stop after <paramref name="delay"/>, exiting with the restart exit code; false when one is already scheduled.</summary>
    bool RequestRestart(TimeSpan delay, string reason);
}
