using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace EdgeRuntime.Messaging.Outbox;

/// <summary>
/// Walks the outbox's unacknowledged records in order, following new appends. Single consumer: not thread-safe.
/// Records are returned once; the caller acknowledges them through <see cref="DurableOutbox.Acknowledge"/> after the
/// broker's PUBACK. Created by <see cref="DurableOutbox.CreateReader"/>; the caller disposes it.
/// </summary>
/// <remarks>
/// Reading allocates nothing per record once warm: bodies are read into one buffer from the shared pool (grown to the
/// largest record, returned on dispose), topics are decoded once per distinct topic, and waiting for the next append
/// reuses one signal. The price is ownership: an <see cref="OutboxEntry"/>'s payload is that buffer, valid until the next
/// read (<see cref="TryRead"/>, <see cref="ReadAsync"/>), <see cref="Rewind"/> or <see cref="Dispose"/>. The publisher
/// reads the next record only after the broker acknowledged (or refused) the previous one, so it can hand the payload to
/// the MQTT client without a copy; anything kept longer takes <see cref="OutboxEntry.ToRecord"/>.
/// </remarks>
public sealed class OutboxReader : IDisposable
{
    private readonly DurableOutbox _outbox;
    private readonly AppendSignal _signal = new();
    private readonly TopicCache _topics = new();
    private byte[] _buffer = [];
    private SafeFileHandle? _handle;
    private string? _handlePath;
    private string? _path;
    private long _offset;
    private long _nextSequence;

    internal OutboxReader(DurableOutbox outbox)
    {
        _outbox = outbox;
        _nextSequence = 0;
    }

    /// <summary>Records skipped because they failed their checksum while being read (the medium changed under us).</summary>
    public long CorruptSkipped { get; private set; }

    /// <summary>Starts again after the acknowledged mark (after a reconnect, what was sent but not acknowledged is sent again).</summary>
    public void Rewind()
    {
        _nextSequence = 0;
        _path = null;
    }

    /// <summary>
    /// Waits for the next unacknowledged record and returns it; its payload is valid until the next read.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The outbox was disposed.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<OutboxEntry> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryRead(out OutboxEntry entry))
            {
                return entry;
            }

            await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Returns the next unacknowledged record if one is on disk (its payload is valid until the next read).</summary>
    public bool TryRead(out OutboxEntry entry)
    {
        while (true)
        {
            entry = default;
            if (!_outbox.TryLocate(ref _nextSequence, ref _path, ref _offset, out long committed, _signal))
            {
                return false;
            }

            if (_handlePath != _path)
            {
                _handle?.Dispose();
                _handle = File.OpenHandle(_path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                _handlePath = _path;
            }

            int length = DurableOutbox.ReadRecordAt(_handle!, _offset, committed, ref _buffer);
            if (length < 0)
            {
                if (!_outbox.HoldsSegment(_path!))
                {
                    // A limit removed (and emptied) the segment after it was located: its records were counted as dropped,
                    // and locating again moves on to the oldest one left.
                    continue;
                }

                // Committed bytes that no longer check out: skip the rest of this segment rather than stall forever.
                CorruptSkipped++;
                _offset = committed;
                continue;
            }

            _offset += DurableOutbox.RecordHeaderSize + length;
            OutboxEntry read = DurableOutbox.ParseEntry(_buffer, length, _topics);
            if (read.Sequence < _nextSequence)
            {
                continue;
            }

            _nextSequence = read.Sequence + 1;
            entry = read;
            return true;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
