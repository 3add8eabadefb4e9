using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using EdgeRuntime.Messaging.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace EdgeRuntime.Messaging.Outbox;

/// <summary>
/// The store-and-forward queue: every result and event is appended here before anything tries to publish it,
/// and leaves the unsent part only when the broker has acknowledged it (PUBACK), in append order.
/// </summary>
/// <remarks>
/// <para><b>On disk.</b> A folder of append-only segment files named by their first sequence number
/// (<c>00000000000000000001.seg</c>), each starting with an 8-byte magic, then records:
/// <c>u32 bodyLength | u32 crc32c(body) | body</c> with body = <c>i64 seq | i64 appendedUnixMs | i64 key | u8 kind |
/// u16 topicLength | topic (UTF-8) | payload</c>, little-endian. The last acknowledged sequence number is in
/// <c>acked</c> (8 bytes + CRC32C, replaced atomically by rename). Opening the outbox checks every record; a torn
/// tail (a write cut by power loss or kill -9) or a record whose checksum fails is cut off there, counted, and
/// never published.</para>
/// <para><b>Durability.</b> Every append is a <c>pwrite</c> before <see cref="Append"/> returns, so a process crash
/// loses nothing. A power cut loses what was not yet fsynced: see <see cref="FsyncPolicy"/>. A segment is fsynced
/// before the next one starts. Publishing is at-least-once: the acknowledged mark is saved at most every
/// 100 ms, so after a crash up to that many records are sent again; consumers de-duplicate by <c>seq</c>.</para>
/// <para><b>Bounds.</b> Sent records stay on disk for <c>cmd/replay</c> until the size or age limit needs the space;
/// whole segments go, oldest first. Unsent records removed that way are counted in
/// <see cref="OutboxStatus.DroppedUnsent"/> and raise <see cref="Alarm"/>. A write that fails (disk full) frees the
/// oldest segment and retries once; if it still fails the record is counted as lost, the outbox reports itself
/// degraded, and the caller carries on: the outbox never throws into the pipeline. Such an episode raises one
/// <c>outbox-write-failed</c> alarm when it starts and one <c>outbox-write-resumed</c> (with the records lost) when a
/// write succeeds again. A removed segment is emptied before it is unlinked, so its space returns even while a reader
/// still has it open.</para>
/// <para><b>Threading.</b> <see cref="Append"/> may be called from any thread. One reader
/// (<see cref="CreateReader"/>) is expected: the publisher. <see cref="Alarm"/> is raised on the appending thread
/// after the outbox's lock is released. Dispose after the publisher has stopped.</para>
/// </remarks>
public sealed partial class DurableOutbox : IDisposable
{
    /// <summary>Bytes before a record's body: length and checksum.</summary>
    public const int RecordHeaderSize = 8;

    /// <summary>The fixed part of a body before the topic.</summary>
    public const int BodyFixedSize = 8 + 8 + 8 + 1 + 2;

    /// <summary>Largest record accepted (bigger payloads are refused, not truncated).</summary>
    public const int MaxRecordSize = 1024 * 1024;

    internal static ReadOnlySpan<byte> Magic => "EDGOBX01"u8;

    private const string AckFileName = "acked";
    private const string AckTemporaryName = "acked.tmp";
    private const string SegmentExtension = ".seg";
    private static readonly TimeSpan s_ackSaveInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly List<Segment> _segments = [];
    private readonly List<AppendSignal> _waiters = new(1);
    private readonly string _directory;
    private readonly string _ackPath;
    private readonly string _ackTemporaryPath;
    private readonly OutboxOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly ITimer? _fsyncTimer;
    private SafeFileHandle? _active;
    private bool _dirty;
    private long _nextSequence;
    private long _acked;
    private long _savedAck;
    private long _lastAckSave;
    private long _appended;
    private long _acknowledged;
    private long _droppedUnsent;
    private long _lost;
    private long _corruptOnOpen;
    private Exception? _writeError;
    private long _failingSinceMs = -1;
    private long _lostWhileFailing;
    private bool _disposed;

    /// <summary>Why the outbox cannot write, while it cannot; null when it writes.</summary>
    private string? Degraded => _writeError is null ? null : "disk: " + _writeError.Message;

    private sealed class Segment(long firstSequence, string path)
    {
        public long FirstSequence { get; } = firstSequence;

        public string Path { get; } = path;

        /// <summary>Bytes of whole records (and the magic): what readers may read.</summary>
        public long Length { get; set; }

        public long LastSequence { get; set; } = firstSequence - 1;

        public long FirstTimestampMs { get; set; } = long.MaxValue;

        public long LastTimestampMs { get; set; }

        public long MinKey { get; set; } = long.MaxValue;

        public long MaxKey { get; set; } = long.MinValue;

        public bool Deleted { get; set; }
    }

    private DurableOutbox(string directory, OutboxOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _directory = directory;
        _ackPath = Path.Combine(directory, AckFileName);
        _ackTemporaryPath = Path.Combine(directory, AckTemporaryName);
        _options = options;
        _time = timeProvider;
        _logger = logger;
        _maxBytes = (long)options.MaxMegabytes * 1024 * 1024;
        _segmentBytes = (long)options.SegmentMegabytes * 1024 * 1024;
        if (options.FsyncPolicy == FsyncPolicy.Interval)
        {
            TimeSpan period = TimeSpan.FromMilliseconds(options.FsyncIntervalMs);
            _fsyncTimer = timeProvider.CreateTimer(static state => ((DurableOutbox)state!).FlushToDisk(), this, period, period);
        }
    }

    /// <summary>Raised when unsent records are dropped or a write fails or recovers.</summary>
    public event Action<OutboxAlarm>? Alarm;

    /// <summary>
    /// The <c>outbox-corrupt</c> alarm when opening cut off torn or corrupt records; null when the files were whole. It
    /// happens before anyone can subscribe to <see cref="Alarm"/>, so it is kept here for the event publisher.
    /// </summary>
    public OutboxAlarm? OpenAlarm => _corruptOnOpen > 0
        ? new OutboxAlarm("outbox-corrupt", $"{_corruptOnOpen} torn or corrupt record(s) cut off when the outbox was opened", _corruptOnOpen)
        : null;

    /// <summary>The folder of the segment files.</summary>
    public string Directory => _directory;

    /// <summary>The age limit; results' message expiry matches what is left of it.</summary>
    public TimeSpan MaxAge => TimeSpan.FromHours(_options.MaxAgeHours);

    /// <summary>
    /// Opens (creating when absent) the outbox in <paramref name="directory"/>, checking every record and cutting off
    /// a torn or corrupt tail. The caller owns the outbox and disposes it.
    /// </summary>
    /// <exception cref="IOException">The folder cannot be created or read.</exception>
    public static DurableOutbox Open(string directory, OutboxOptions options, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        System.IO.Directory.CreateDirectory(directory);
        var outbox = new DurableOutbox(Path.GetFullPath(directory), options, timeProvider, logger);
        try
        {
            outbox.Load();
            return outbox;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            outbox.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Appends one record and returns its outbox sequence number, or -1 when it could not be written (counted as lost,
    /// alarmed, and the outbox reports itself degraded). Never blocks on the network; one <c>pwrite</c>, plus an fsync
    /// when <see cref="FsyncPolicy.Always"/>.
    /// </summary>
    /// <param name="kind">What the record carries.</param>
    /// <param name="key">Pipeline sequence number for results, -1 for events.</param>
    /// <param name="topic">Full MQTT topic.</param>
    /// <param name="payload">Message body; copied before the call returns.</param>
    /// <exception cref="ArgumentException">The record would exceed <see cref="MaxRecordSize"/>.</exception>
    public long Append(OutboxRecordKind kind, long key, string topic, ReadOnlySpan<byte> payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        int topicBytes = Encoding.UTF8.GetByteCount(topic);
        int bodyLength = BodyFixedSize + topicBytes + payload.Length;
        if (topicBytes > ushort.MaxValue || RecordHeaderSize + bodyLength > MaxRecordSize)
        {
            throw new ArgumentException($"record of {RecordHeaderSize + bodyLength} bytes exceeds the outbox's {MaxRecordSize}-byte limit", nameof(payload));
        }

        int size = RecordHeaderSize + bodyLength;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        List<OutboxAlarm>? alarms = null;
        long sequence;
        try
        {
            long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                sequence = _nextSequence;
                Span<byte> record = buffer.AsSpan(0, size);
                Span<byte> body = record[RecordHeaderSize..];
                BinaryPrimitives.WriteInt64LittleEndian(body, sequence);
                BinaryPrimitives.WriteInt64LittleEndian(body[8..], now);
                BinaryPrimitives.WriteInt64LittleEndian(body[16..], key);
                body[24] = (byte)kind;
                BinaryPrimitives.WriteUInt16LittleEndian(body[25..], (ushort)topicBytes);
                Encoding.UTF8.GetBytes(topic, body.Slice(BodyFixedSize, topicBytes));
                payload.CopyTo(body[(BodyFixedSize + topicBytes)..]);
                BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)bodyLength);
                BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32C.Compute(body));

                if (!TryWrite(record, now, key, ref alarms) && !(FreeOldest(ref alarms) && TryWrite(record, now, key, ref alarms)))
                {
                    _lost++;
                    _lostWhileFailing++;
                    sequence = -1;
                    if (_failingSinceMs < 0)
                    {
                        // One alarm per episode, not per record: at full frame rate a full disk would otherwise raise an alarm per
                        // result, and the alarm's own event record (which cannot be written either) would raise the next one.
                        _failingSinceMs = now;
                        Log.WriteFailed(_logger, _writeError, _directory);
                        (alarms ??= []).Add(new OutboxAlarm("outbox-write-failed",
                            $"the outbox cannot write ({Degraded}): records are counted as lost until it can", 1));
                    }
                }
                else
                {
                    _nextSequence++;
                    _appended++;
                    if (_failingSinceMs >= 0)
                    {
                        // Usually the episode's first alarm could not be stored: this one carries what was lost.
                        string since = DateTimeOffset.FromUnixTimeMilliseconds(_failingSinceMs).ToString("O", CultureInfo.InvariantCulture);
                        (alarms ??= []).Add(new OutboxAlarm("outbox-write-resumed",
                            $"the outbox writes again; {_lostWhileFailing} record(s) could not be written since {since} ({Degraded})", _lostWhileFailing));
                        Log.WriteResumed(_logger, _directory, _lostWhileFailing);
                        _failingSinceMs = -1;
                        _lostWhileFailing = 0;
                    }

                    _writeError = null;
                    foreach (AppendSignal waiter in _waiters)
                    {
                        waiter.Set();
                    }

                    _waiters.Clear();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Raise(alarms);
        return sequence;
    }

    /// <summary>Marks every record up to <paramref name="sequence"/> as acknowledged by the broker. Called by the publisher only, in order.</summary>
    public void Acknowledge(long sequence)
    {
        lock (_gate)
        {
            if (sequence <= _acked || _disposed)
            {
                return;
            }

            _acknowledged += sequence - _acked;
            _acked = sequence;
            long now = _time.GetTimestamp();
            if (_time.GetElapsedTime(_lastAckSave, now) >= s_ackSaveInterval)
            {
                SaveAck();
                _lastAckSave = now;
            }
        }
    }

    /// <summary>The last sequence number the broker acknowledged.</summary>
    public long AcknowledgedSequence
    {
        get
        {
            lock (_gate)
            {
                return _acked;
            }
        }
    }

    /// <summary>Creates the reader that walks unacknowledged records in order, starting after the acknowledged mark. The caller disposes it.</summary>
    public OutboxReader CreateReader() => new(this);

    /// <summary>A snapshot for health.</summary>
    public OutboxStatus Status
    {
        get
        {
            lock (_gate)
            {
                long pending = _nextSequence - 1 - _acked;
                TimeSpan age = TimeSpan.Zero;
                foreach (Segment segment in _segments)
                {
                    if (segment.LastSequence > _acked)
                    {
                        // The segment's first unsent record is at most as young as the segment's first record.
                        age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(segment.FirstTimestampMs);
                        break;
                    }
                }

                long bytes = 0;
                foreach (Segment segment in _segments)
                {
                    bytes += segment.Length;
                }

                return new OutboxStatus(pending, age < TimeSpan.Zero ? TimeSpan.Zero : age, bytes, _segments.Count, _appended, _acknowledged,
                    _droppedUnsent, _lost, _corruptOnOpen, Degraded);
            }
        }
    }

    /// <summary>Removes segments whose newest record is older than the age limit (unsent ones counted and alarmed). Called periodically by the publisher.</summary>
    public void EnforceAgeLimit()
    {
        List<OutboxAlarm>? alarms = null;
        long cutoff = (_time.GetUtcNow() - MaxAge).ToUnixTimeMilliseconds();
        lock (_gate)
        {
            while (_segments.Count > 1 && _segments[0].LastTimestampMs < cutoff)
            {
                RemoveOldest("age", ref alarms);
            }
        }

        Raise(alarms);
    }

    /// <summary>
    /// Reads the result records whose pipeline sequence number is in [<paramref name="fromKey"/>, <paramref name="toKey"/>]
    /// and still on disk, in outbox order, at most <paramref name="max"/>. For <c>cmd/replay</c>; reads files, so keep it off hot paths.
    /// </summary>
    public IReadOnlyList<OutboxRecord> ReadResultRange(long fromKey, long toKey, int max)
    {
        Segment[] candidates;
        lock (_gate)
        {
            candidates = _segments.Where(s => s.MaxKey >= fromKey && s.MinKey <= toKey).ToArray();
        }

        var found = new List<OutboxRecord>();
        byte[] buffer = [];
        try
        {
            foreach (Segment segment in candidates)
            {
                long length;
                lock (_gate)
                {
                    if (segment.Deleted)
                    {
                        continue;
                    }

                    length = segment.Length;
                }

                try
                {
                    using SafeFileHandle handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    var topics = new TopicCache();
                    long offset = Magic.Length;
                    while (offset < length && found.Count < max)
                    {
                        int bodyLength = ReadRecordAt(handle, offset, length, ref buffer);
                        if (bodyLength < 0)
                        {
                            break;
                        }

                        offset += RecordHeaderSize + bodyLength;
                        OutboxEntry entry = ParseEntry(buffer, bodyLength, topics);
                        if (entry.Kind == OutboxRecordKind.Result && entry.Key >= fromKey && entry.Key <= toKey)
                        {
                            found.Add(entry.ToRecord());
                        }
                    }
                }
                catch (FileNotFoundException)
                {
                    // Removed by the size or age limit after the snapshot: those records are no longer on disk, which the reply reports.
                    continue;
                }
            }
        }
        finally
        {
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return found;
    }

    /// <summary>Forces appended records to the medium now (the interval policy's timer calls this).</summary>
    public void FlushToDisk()
    {
        SafeFileHandle? handle;
        lock (_gate)
        {
            if (!_dirty || _disposed)
            {
                return;
            }

            handle = _active;
            _dirty = false;
        }

        if (handle is null)
        {
            return;
        }

        try
        {
            RandomAccess.FlushToDisk(handle);
        }
        catch (ObjectDisposedException)
        {
            // The segment was rolled (fsynced when it closed) or the outbox disposed meanwhile: nothing left to flush.
            return;
        }
        catch (IOException ex)
        {
            Log.FsyncFailed(_logger, ex, _directory);
            lock (_gate)
            {
                _dirty = true;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _fsyncTimer?.Dispose();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_active is not null)
            {
                if (_options.FsyncPolicy != FsyncPolicy.Never && _dirty)
                {
                    TryFsync(_active);
                }

                _active.Dispose();
                _active = null;
            }

            if (_savedAck != _acked)
            {
                SaveAck();
            }

            foreach (AppendSignal waiter in _waiters)
            {
                waiter.Fail(new ObjectDisposedException(nameof(DurableOutbox)));
            }

            _waiters.Clear();
        }
    }

    // ---- reader support -------------------------------------------------------------------------------------

    /// <summary>
    /// Positions a reader: moves it past acknowledged records and dropped segments, and onto the next segment when it
    /// finished one. Returns true with the committed length of <paramref name="path"/> when a whole record is at
    /// <paramref name="offset"/>; otherwise false with <paramref name="signal"/> armed for the next append.
    /// </summary>
    internal bool TryLocate(ref long nextSequence, ref string? path, ref long offset, out long committedLength, AppendSignal signal)
    {
        lock (_gate)
        {
            committedLength = 0;
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (nextSequence <= _acked)
            {
                nextSequence = _acked + 1;
                path = null;
            }

            int index = IndexOf(path);
            if (index < 0)
            {
                index = _segments.Count - 1;
                for (int i = 0; i < _segments.Count; i++)
                {
                    if (_segments[i].LastSequence >= nextSequence)
                    {
                        index = i;
                        break;
                    }
                }

                if (index < 0)
                {
                    Wait(signal);
                    return false;
                }

                path = _segments[index].Path;
                offset = Magic.Length;
            }

            while (true)
            {
                Segment segment = _segments[index];
                if (offset < segment.Length)
                {
                    committedLength = segment.Length;
                    return true;
                }

                if (index == _segments.Count - 1)
                {
                    Wait(signal);
                    return false;
                }

                index++;
                path = _segments[index].Path;
                offset = Magic.Length;
            }
        }
    }

    /// <summary>Whether <paramref name="path"/> is still one of the segments (a limit did not remove it meanwhile).</summary>
    internal bool HoldsSegment(string path)
    {
        lock (_gate)
        {
            return IndexOf(path) >= 0;
        }
    }

    private int IndexOf(string? path)
    {
        for (int i = 0; path is not null && i < _segments.Count; i++)
        {
            if (_segments[i].Path == path)
            {
                return i;
            }
        }

        return -1;
    }

    private void Wait(AppendSignal signal)
    {
        signal.Arm();
        if (!_waiters.Contains(signal))
        {
            _waiters.Add(signal);
        }
    }

    /// <summary>
    /// Reads the body of the record at <paramref name="offset"/> into <paramref name="buffer"/> (replaced by a larger one from
    /// the shared pool when too small; the caller returns it) and returns its length; -1 when the record is not whole, fails
    /// its checksum or has no topic. The record takes <see cref="RecordHeaderSize"/> + the length bytes of the file.
    /// </summary>
    internal static int ReadRecordAt(SafeFileHandle handle, long offset, long limit, ref byte[] buffer)
    {
        Span<byte> header = stackalloc byte[RecordHeaderSize];
        if (limit - offset < RecordHeaderSize || RandomAccess.Read(handle, header, offset) < RecordHeaderSize)
        {
            return -1;
        }

        uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(header);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (bodyLength < BodyFixedSize || bodyLength > MaxRecordSize - RecordHeaderSize || limit - offset - RecordHeaderSize < bodyLength)
        {
            return -1;
        }

        if (buffer.Length < bodyLength)
        {
            byte[] smaller = buffer;
            buffer = ArrayPool<byte>.Shared.Rent((int)bodyLength);
            if (smaller.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(smaller);
            }
        }

        Span<byte> body = buffer.AsSpan(0, (int)bodyLength);
        if (RandomAccess.Read(handle, body, offset + RecordHeaderSize) < body.Length || Crc32C.Compute(body) != crc)
        {
            return -1;
        }

        int topicLength = BinaryPrimitives.ReadUInt16LittleEndian(body[25..]);
        return topicLength == 0 || BodyFixedSize + topicLength > body.Length ? -1 : body.Length;
    }

    /// <summary>
    /// The record whose body <see cref="ReadRecordAt"/> read into <paramref name="buffer"/> and checked: the fixed fields,
    /// then the topic, then the payload, which stays in <paramref name="buffer"/>.
    /// </summary>
    internal static OutboxEntry ParseEntry(byte[] buffer, int bodyLength, TopicCache topics)
    {
        ReadOnlySpan<byte> body = buffer.AsSpan(0, bodyLength);
        int topicLength = BinaryPrimitives.ReadUInt16LittleEndian(body[25..]);
        int payload = BodyFixedSize + topicLength;
        return new OutboxEntry(
            Sequence: BinaryPrimitives.ReadInt64LittleEndian(body),
            Key: BinaryPrimitives.ReadInt64LittleEndian(body[16..]),
            TimestampMs: BinaryPrimitives.ReadInt64LittleEndian(body[8..]),
            Kind: (OutboxRecordKind)body[24],
            Topic: topics.Get(body.Slice(BodyFixedSize, topicLength)),
            Payload: buffer.AsMemory(payload, bodyLength - payload));
    }

    // ---- writing ----------------------------------------------------------------------------------------------

    private bool TryWrite(ReadOnlySpan<byte> record, long now, long key, ref List<OutboxAlarm>? alarms)
    {
        try
        {
            if (_active is null || (_segments[^1].Length + record.Length > _segmentBytes && _segments[^1].LastSequence >= _segments[^1].FirstSequence))
            {
                Roll(ref alarms);
            }

            Segment segment = _segments[^1];
            RandomAccess.Write(_active!, record, segment.Length);
            if (_options.FsyncPolicy == FsyncPolicy.Always)
            {
                RandomAccess.FlushToDisk(_active!);
            }
            else
            {
                _dirty = true;
            }

            segment.Length += record.Length;
            segment.LastSequence = _nextSequence;
            segment.FirstTimestampMs = Math.Min(segment.FirstTimestampMs, now);
            segment.LastTimestampMs = now;
            segment.MinKey = Math.Min(segment.MinKey, key);
            segment.MaxKey = Math.Max(segment.MaxKey, key);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _writeError = ex;
            CutToCommitted();
            return false;
        }
    }

    /// <summary>
    /// After a failed write (ENOSPC, EIO), cuts what part of the record reached the file: it would hold space on a full
    /// disk, and after a restart it would read as a torn record and be reported as corruption.
    /// </summary>
    private void CutToCommitted()
    {
        if (_active is not { } handle)
        {
            return;
        }

        try
        {
            RandomAccess.SetLength(handle, _segments[^1].Length);
        }
        catch (IOException ex)
        {
            // The next write overwrites those bytes anyway, and opening cuts a torn tail: nothing is lost by leaving them.
            Log.CutFailed(_logger, ex, _segments[^1].Path);
        }
    }

    private void Roll(ref List<OutboxAlarm>? alarms)
    {
        if (_active is { } previous)
        {
            if (_options.FsyncPolicy != FsyncPolicy.Never)
            {
                TryFsync(previous);
            }

            previous.Dispose();
            _active = null;
        }

        string path = Path.Combine(_directory, _nextSequence.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension);
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        try
        {
            RandomAccess.Write(handle, Magic, 0);
        }
        catch (IOException)
        {
            handle.Dispose();
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The write's error is the one to report. An empty file left behind becomes the active segment at the next open.
                Log.DeleteFailed(_logger, ex, path);
            }

            throw;
        }

        _active = handle;
        _segments.Add(new Segment(_nextSequence, path) { Length = Magic.Length });
        EnforceSizeLimit(ref alarms);
    }

    private void EnforceSizeLimit(ref List<OutboxAlarm>? alarms)
    {
        long total = 0;
        foreach (Segment segment in _segments)
        {
            total += segment.Length;
        }

        // The new active segment fills up to a whole segment: make room for that too.
        while (_segments.Count > 1 && total + _segmentBytes > _maxBytes)
        {
            total -= _segments[0].Length;
            RemoveOldest("size", ref alarms);
        }
    }

    private bool FreeOldest(ref List<OutboxAlarm>? alarms)
    {
        if (_segments.Count <= 1)
        {
            return false;
        }

        RemoveOldest("disk-full", ref alarms);
        return true;
    }

    private void RemoveOldest(string why, ref List<OutboxAlarm>? alarms)
    {
        Segment oldest = _segments[0];
        _segments.RemoveAt(0);
        oldest.Deleted = true;
        long unsent = oldest.LastSequence > _acked ? oldest.LastSequence - Math.Max(_acked, oldest.FirstSequence - 1) : 0;
        if (unsent > 0)
        {
            _droppedUnsent += unsent;
            _acked = oldest.LastSequence;
            SaveAck();
            (alarms ??= []).Add(new OutboxAlarm("outbox-dropped",
                $"{unsent} unsent records (outbox seq {oldest.FirstSequence}..{oldest.LastSequence}) dropped by the {why} limit", unsent));
            Log.DroppedUnsent(_logger, unsent, oldest.FirstSequence, oldest.LastSequence, why);
        }

        try
        {
            // Emptied before it is unlinked: a reader (or a replay) may still hold it open, and an unlinked file keeps its
            // blocks until the last handle closes. On a full disk that would free nothing at all.
            using (SafeFileHandle handle = File.OpenHandle(oldest.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
                RandomAccess.SetLength(handle, 0);
            }

            File.Delete(oldest.Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.DeleteFailed(_logger, ex, oldest.Path);
        }
    }

    private void TryFsync(SafeFileHandle handle)
    {
        try
        {
            RandomAccess.FlushToDisk(handle);
        }
        catch (IOException ex)
        {
            Log.FsyncFailed(_logger, ex, _directory);
        }
    }

    private void SaveAck()
    {
        Span<byte> data = stackalloc byte[12];
        BinaryPrimitives.WriteInt64LittleEndian(data, _acked);
        BinaryPrimitives.WriteUInt32LittleEndian(data[8..], Crc32C.Compute(data[..8]));
        try
        {
            using (SafeFileHandle handle = File.OpenHandle(_ackTemporaryPath, FileMode.Create, FileAccess.Write))
            {
                RandomAccess.Write(handle, data, 0);
            }

            File.Move(_ackTemporaryPath, _ackPath, overwrite: true);
            _savedAck = _acked;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only costs duplicates after a restart (at-least-once), so it must not stop publishing.
            Log.AckSaveFailed(_logger, ex, _ackPath);
        }
    }

    private void Raise(List<OutboxAlarm>? alarms)
    {
        if (alarms is null)
        {
            return;
        }

        foreach (OutboxAlarm alarm in alarms)
        {
            Alarm?.Invoke(alarm);
        }
    }

    // ---- opening ----------------------------------------------------------------------------------------------

    private void Load()
    {
        long acked = ReadAck();
        string[] files = System.IO.Directory.GetFiles(_directory, "*" + SegmentExtension);
        Array.Sort(files, StringComparer.Ordinal);
        foreach (string path in files)
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out long first))
            {
                continue;
            }

            Segment segment = ScanSegment(path, first);
            if (segment.LastSequence < segment.FirstSequence && path != files[^1])
            {
                File.Delete(path);
                continue;
            }

            _segments.Add(segment);
        }

        long last = _segments.Count > 0 ? _segments[^1].LastSequence : acked;
        _acked = Math.Min(acked, last);
        if (_segments.Count > 0 && _acked < _segments[0].FirstSequence - 1)
        {
            // The acknowledged mark is older than anything on disk (lost ack file): start at the oldest record.
            _acked = _segments[0].FirstSequence - 1;
        }

        _savedAck = _acked;
        _nextSequence = Math.Max(last, acked) + 1;
        if (_segments.Count > 0)
        {
            Segment tail = _segments[^1];
            if (tail.Length < _segmentBytes)
            {
                _active = File.OpenHandle(tail.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
                RandomAccess.SetLength(_active, tail.Length);
            }
        }

        Log.Opened(_logger, _directory, _segments.Count, _nextSequence - 1 - _acked, _corruptOnOpen);
    }

    private Segment ScanSegment(string path, long first)
    {
        var segment = new Segment(first, path);
        byte[] data = File.ReadAllBytes(path);
        if (data.Length < Magic.Length || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            // A segment cut before its magic was whole: nothing in it was ever committed.
            Truncate(path, 0, data.Length);
            RewriteMagic(path);
            segment.Length = Magic.Length;
            return segment;
        }

        int offset = Magic.Length;
        while (offset < data.Length)
        {
            ReadOnlySpan<byte> rest = data.AsSpan(offset);
            if (rest.Length < RecordHeaderSize)
            {
                break;
            }

            uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(rest);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
            if (bodyLength < BodyFixedSize || bodyLength > MaxRecordSize || rest.Length - RecordHeaderSize < bodyLength)
            {
                break;
            }

            ReadOnlySpan<byte> body = rest.Slice(RecordHeaderSize, (int)bodyLength);
            if (Crc32C.Compute(body) != crc)
            {
                break;
            }

            long sequence = BinaryPrimitives.ReadInt64LittleEndian(body);
            if (sequence != segment.LastSequence + 1)
            {
                // Out of order means the file is not what this outbox wrote there: stop trusting it at this point.
                break;
            }

            long timestamp = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
            long key = BinaryPrimitives.ReadInt64LittleEndian(body[16..]);
            segment.LastSequence = sequence;
            segment.FirstTimestampMs = Math.Min(segment.FirstTimestampMs, timestamp);
            segment.LastTimestampMs = timestamp;
            segment.MinKey = Math.Min(segment.MinKey, key);
            segment.MaxKey = Math.Max(segment.MaxKey, key);
            offset += RecordHeaderSize + (int)bodyLength;
        }

        if (offset < data.Length)
        {
            // Whatever follows the last good record counts as one lost record: its length field cannot be trusted to count more.
            _corruptOnOpen++;
            Log.TornTail(_logger, path, offset, data.Length - offset);
            Truncate(path, offset, data.Length);
        }

        segment.Length = offset;
        return segment;
    }

    private static void Truncate(string path, long length, long current)
    {
        if (length == current)
        {
            return;
        }

        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.SetLength(handle, length);
    }

    private static void RewriteMagic(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, Magic, 0);
    }

    private long ReadAck()
    {
        if (!File.Exists(_ackPath))
        {
            return 0;
        }

        byte[] data = File.ReadAllBytes(_ackPath);
        if (data.Length == 12 && Crc32C.Compute(data.AsSpan(0, 8)) == BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8)))
        {
            return BinaryPrimitives.ReadInt64LittleEndian(data);
        }

        Log.AckFileCorrupt(_logger, _ackPath);
        return 0;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Outbox {Directory} opened: {Segments} segment(s), {Pending} record(s) waiting for the broker, {Corrupt} torn/corrupt record(s) cut off")]
        public static partial void Opened(ILogger logger, string directory, int segments, long pending, long corrupt);

        [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "Outbox segment {Path}: torn or corrupt data at byte {Offset} ({Bytes} bytes) cut off")]
        public static partial void TornTail(ILogger logger, string path, long offset, long bytes);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Error, Message = "Outbox cannot write to {Directory}, even after freeing its oldest segment; records are counted as lost until it can")]
        public static partial void WriteFailed(ILogger logger, Exception? exception, string directory);

        [LoggerMessage(EventId = 5103, Level = LogLevel.Error, Message = "Outbox fsync in {Directory} failed")]
        public static partial void FsyncFailed(ILogger logger, Exception exception, string directory);

        [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Outbox dropped {Count} unsent record(s) (seq {First}..{Last}) to respect its {Limit} limit")]
        public static partial void DroppedUnsent(ILogger logger, long count, long first, long last, string limit);

        [LoggerMessage(EventId = 5105, Level = LogLevel.Warning, Message = "Outbox segment {Path} could not be deleted")]
        public static partial void DeleteFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "Outbox acknowledged mark {Path} could not be saved; records may be sent twice after a restart")]
        public static partial void AckSaveFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "Outbox acknowledged mark {Path} is corrupt; everything still on disk will be sent again")]
        public static partial void AckFileCorrupt(ILogger logger, string path);

        [LoggerMessage(EventId = 5108, Level = LogLevel.Information, Message = "Outbox writes to {Directory} again; {Lost} record(s) were lost while it could not")]
        public static partial void WriteResumed(ILogger logger, string directory, long lost);

        [LoggerMessage(EventId = 5109, Level = LogLevel.Warning, Message = "Outbox segment {Path}: a failed write could not be cut off; the next write overwrites it")]
        public static partial void CutFailed(ILogger logger, Exception exception, string path);
    }
}

/// <summary>CRC-32C (Castagnoli), hardware-accelerated where the CPU has it (SSE4.2, ARMv8 CRC).</summary>
internal static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
