namespace EdgeRuntime.Messaging.Outbox;

/// <summary>What a record carries; decides its topic's QoS and expiry on the way out.</summary>
public enum OutboxRecordKind : byte
{
    /// <summary>An inspection result; <see cref="OutboxRecord.Key"/> is its pipeline sequence number.</summary>
    Result = 1,

    /// <summary>An alarm or notable event.</summary>
    Event = 2,
}

/// <summary>
/// One message read back from the outbox (<see cref="DurableOutbox.ReadResultRange"/>, <see cref="OutboxEntry.ToRecord"/>);
/// the payload array is the record's own (not pooled), so a caller may keep it.
/// </summary>
/// <param name="Sequence">Outbox sequence number: strictly increasing, gap-free, never reused (persisted across restarts).</param>
/// <param name="Key">The pipeline sequence number for results (what consumers de-duplicate and replay by); -1 for events.</param>
/// <param name="TimestampMs">When the record was appended, Unix milliseconds UTC.</param>
/// <param name="Kind">What the record carries.</param>
/// <param name="Topic">Full MQTT topic.</param>
/// <param name="Payload">The message body (UTF-8 JSON).</param>
public sealed record OutboxRecord(long Sequence, long Key, long TimestampMs, OutboxRecordKind Kind, string Topic, byte[] Payload);

/// <summary>
/// One message as <see cref="OutboxReader"/> returned it. <see cref="Payload"/> lies in the reader's own buffer: it is valid
/// until the reader's next read, <see cref="OutboxReader.Rewind"/> or dispose, so the publisher needs no copy per record.
/// <see cref="ToRecord"/> copies it for keeping.
/// </summary>
/// <param name="Sequence">Outbox sequence number.</param>
/// <param name="Key">The pipeline sequence number for results; -1 for events.</param>
/// <param name="TimestampMs">When the record was appended, Unix milliseconds UTC.</param>
/// <param name="Kind">What the record carries.</param>
/// <param name="Topic">Full MQTT topic (one string per distinct topic, shared by every entry on it).</param>
/// <param name="Payload">The message body (UTF-8 JSON), borrowed from the reader.</param>
public readonly record struct OutboxEntry(long Sequence, long Key, long TimestampMs, OutboxRecordKind Kind, string Topic, ReadOnlyMemory<byte> Payload)
{
    /// <summary>A copy that owns its payload.</summary>
    public OutboxRecord ToRecord() => new(Sequence, Key, TimestampMs, Kind, Topic, Payload.ToArray());
}

/// <summary>The outbox at one moment, for health.</summary>
/// <param name="Pending">Records appended and not yet acknowledged by the broker.</param>
/// <param name="OldestPendingAge">Age of the oldest unacknowledged record; zero when none.</param>
/// <param name="Bytes">Bytes on disk (sent records are kept for replay until the size or age limit).</param>
/// <param name="Segments">Segment files.</param>
/// <param name="Appended">Records appended since start.</param>
/// <param name="Acknowledged">Records acknowledged since start.</param>
/// <param name="DroppedUnsent">Unsent records removed by the size or age limit since start (each alarmed).</param>
/// <param name="Lost">Records that could not be written at all (disk full or failing) since start.</param>
/// <param name="CorruptOnOpen">Records found torn or corrupt (checksum) and dropped when the outbox was opened.</param>
/// <param name="Degraded">Why the outbox cannot write right now (disk full); null when healthy.</param>
public sealed record OutboxStatus(
    long Pending,
    TimeSpan OldestPendingAge,
    long Bytes,
    int Segments,
    long Appended,
    long Acknowledged,
    long DroppedUnsent,
    long Lost,
    long CorruptOnOpen,
    string? Degraded);

/// <summary>An alarm raised by the outbox: unsent records were dropped, or the disk refuses writes.</summary>
/// <param name="Code">Stable code: <c>outbox-dropped</c>, <c>outbox-write-failed</c>, <c>outbox-write-resumed</c>, <c>outbox-corrupt</c>.</param>
/// <param name="Message">What happened, for people.</param>
/// <param name="Count">Records concerned.</param>
public sealed record OutboxAlarm(string Code, string Message, long Count);
