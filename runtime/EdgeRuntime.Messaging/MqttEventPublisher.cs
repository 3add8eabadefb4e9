using System.Buffers;
using System.Text.Json;
using EdgeRuntime.Messaging.Outbox;

namespace EdgeRuntime.Messaging;

/// <summary>
/// Raises events (alarms) on <c>{base}/event</c> through the durable outbox, so an alarm raised while the broker is away
/// is delivered when it returns. Thread-safe; events are rare, so each allocates its small buffer.
/// </summary>
public sealed class MqttEventPublisher
{
    private readonly DurableOutbox _outbox;
    private readonly string _topic;
    private readonly TimeProvider _time;

    /// <param name="outbox">Where events go; owned by the caller. Its own alarms are raised through this publisher.</param>
    /// <param name="topics">The device's topic tree.</param>
    /// <param name="timeProvider">Clock for the event time.</param>
    public MqttEventPublisher(DurableOutbox outbox, MqttTopics topics, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(topics);
        _outbox = outbox;
        _topic = topics.Event;
        _time = timeProvider;
        outbox.Alarm += RaiseAlarm;
        if (outbox.OpenAlarm is { } found)
        {
            RaiseAlarm(found);
        }
    }

    private void RaiseAlarm(OutboxAlarm alarm) => Raise(alarm.Code, "warning", alarm.Message, alarm.Count);

    /// <summary>Appends an event; returns false when the outbox could not store it.</summary>
    /// <param name="code">Stable machine-readable code (e.g. <c>outbox-dropped</c>, <c>camera-lost</c>).</param>
    /// <param name="severity">info, warning or error.</param>
    /// <param name="message">For people.</param>
    /// <param name="count">How many things the event is about, when that means something (omitted when null).</param>
    public bool Raise(string code, string severity, string message, long? count = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schema", 1);
            writer.WriteString("code", code);
            writer.WriteString("severity", severity);
            writer.WriteString("message", message);
            if (count is { } n)
            {
                writer.WriteNumber("count", n);
            }

            writer.WriteString("utc", _time.GetUtcNow());
            writer.WriteEndObject();
        }

        return _outbox.Append(OutboxRecordKind.Event, -1, _topic, buffer.WrittenSpan) >= 0;
    }
}
