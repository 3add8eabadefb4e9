using System.Buffers;
using System.Text.Json;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Messaging.Outbox;
using EdgeRuntime.Messaging.Payloads;

namespace EdgeRuntime.Messaging;

/// <summary>
/// Puts every result into the durable outbox as JSON on <c>{base}/result</c>; the connection service publishes it
/// when the broker is reachable. Never touches the network, so a broker outage cannot slow the pipeline: the cost per
/// result is one JSON encoding into a reused buffer and one file write. Called by the publish stage only, one result at
/// a time (the <see cref="IResultSink"/> contract), so the buffer needs no lock.
/// </summary>
public sealed class MqttResultSink : IResultSink, IDisposable
{
    private readonly DurableOutbox _outbox;
    private readonly string _topic;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;
    private long _refused;

    /// <param name="outbox">Where results go; owned by the caller.</param>
    /// <param name="topics">The device's topic tree.</param>
    public MqttResultSink(DurableOutbox outbox, MqttTopics topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        _outbox = outbox;
        _topic = topics.Result;
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <inheritdoc />
    public string Name => "mqtt";

    /// <summary>Results the outbox could not store (disk full); also counted by the outbox as lost.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <inheritdoc />
    public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        ResultPayload.Write(_writer, result);
        _writer.Flush();
        if (_outbox.Append(OutboxRecordKind.Result, result.Sequence, _topic, _buffer.WrittenSpan) < 0)
        {
            Interlocked.Increment(ref _refused);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}
