using EdgeRuntime.Messaging.Options;

namespace EdgeRuntime.Messaging;

/// <summary>
/// The device's topic tree, <c>{TopicPrefix}/{DeviceId}/...</c> (documented in TOPICS.md). Immutable; built once from
/// the options so no topic string is formatted per message.
/// </summary>
public sealed class MqttTopics
{
    /// <summary>Builds the tree for <paramref name="prefix"/> and <paramref name="deviceId"/>.</summary>
    public MqttTopics(string prefix, string deviceId)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        Base = prefix + "/" + deviceId;
        Result = Base + "/result";
        Event = Base + "/event";
        Health = Base + "/health";
        Status = Base + "/status";
        CommandPrefix = Base + "/cmd/";
        CommandFilter = Base + "/cmd/#";
    }

    /// <summary>The tree for the configured prefix and device id.</summary>
    public static MqttTopics From(MqttOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MqttTopics(options.TopicPrefix, options.EffectiveDeviceId);
    }

    /// <summary><c>{prefix}/{device}</c>.</summary>
    public string Base { get; }

    /// <summary>Every inspection result, QoS 1.</summary>
    public string Result { get; }

    /// <summary>Alarms and notable events, QoS 1.</summary>
    public string Event { get; }

    /// <summary>Periodic health, QoS 0, retained, expires after one period.</summary>
    public string Health { get; }

    /// <summary>Retained <c>online</c> birth message; <c>offline</c> as the Last Will and on a clean stop.</summary>
    public string Status { get; }

    /// <summary><c>{base}/cmd/</c>, followed by the command name.</summary>
    public string CommandPrefix { get; }

    /// <summary>The subscription for commands.</summary>
    public string CommandFilter { get; }

    /// <summary>The conventional reply topic of a command (used when the request names no MQTT 5 response topic).</summary>
    public string Reply(string command) => CommandPrefix + command + "/reply";
}
