using Microsoft.Win32.SafeHandles;

namespace EdgeRuntime.Messaging.Outbox;

/// <summary>
/// Walks the outbox's unacknowledged records in order, following new appends. Single consumer: not thread-safe.
/// Records are returned once; the caller acknowledges them through <see cref="DurableOutbox.Acknowledge"/> after the
/// broker's PUBACK. Created by <see cref="DurableOutbox.CreateReader"/>; the caller disposes it.
/// </summary>
public sealed class OutboxReader : IDisposable
{
    private readonly DurableOutbox _outbox;
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
    /// Waits for the next unacknowledged record and returns it.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The outbox was disposed.</exception>
    public async ValueTask<OutboxRecord> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryRead(out OutboxRecord? record, out Task? wait))
            {
                return record;
            }

            await wait!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Returns the next unacknowledged record if one is on disk; otherwise a task that completes on the next append.</summary>
    public bool TryRead([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OutboxRecord? record, out Task? wait)
    {
        while (true)
        {
            record = null;
            if (!_outbox.TryLocate(ref _nextSequence, ref _path, ref _offset, out long committed, out wait))
            {
                return false;
            }

            if (_handlePath != _path)
            {
                _handle?.Dispose();
                _handle = File.OpenHandle(_path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                _handlePath = _path;
            }

            OutboxRecord? read = DurableOutbox.ReadRecordAt(_handle!, _offset, committed, out int size);
            if (read is null)
            {
                // Committed bytes that no longer check out: skip the rest of this segment rather than stall forever.
                CorruptSkipped++;
                _offset = committed;
                continue;
            }

            _offset += size;
            if (read.Sequence < _nextSequence)
            {
                continue;
            }

            _nextSequence = read.Sequence + 1;
            record = read;
            return true;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
    }
}
