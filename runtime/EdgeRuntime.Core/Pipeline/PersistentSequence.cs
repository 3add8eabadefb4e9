using System.Globalization;

namespace EdgeRuntime.Core.Pipeline;

/// <summary>
/// Hands out the results' sequence numbers: strictly increasing, also across restarts and power loss.
/// Numbers are reserved on disk in blocks (written to a temporary file, flushed, atomically renamed), so
/// the disk is touched once per block rather than once per result; after a crash the numbering resumes
/// at the next block, leaving a gap of at most one block and never a repeat. Thread-safe.
/// </summary>
public sealed class PersistentSequence
{
    private const string FileName = "sequence";
    private readonly string _path;
    private readonly int _block;
    private readonly Lock _gate = new();
    private long _next;
    private long _reservedUpTo;

    /// <summary>Opens (or starts) the sequence kept in <paramref name="stateDirectory"/>.</summary>
    /// <exception cref="InvalidDataException">The file exists but does not hold a number.</exception>
    public PersistentSequence(string stateDirectory, int reserveBlock)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reserveBlock);
        Directory.CreateDirectory(stateDirectory);
        _path = Path.Combine(stateDirectory, FileName);
        _block = reserveBlock;
        long reserved = 0;
        if (File.Exists(_path))
        {
            string text = File.ReadAllText(_path).Trim();
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out reserved))
            {
                throw new InvalidDataException($"{_path} should hold the last reserved sequence number but holds \"{text}\"");
            }
        }

        // Everything up to the previous reservation may have been handed out before a crash: start after it.
        _next = reserved + 1;
        _reservedUpTo = reserved;
    }

    /// <summary>The number the next call to <see cref="Next"/> returns.</summary>
    public long Peek()
    {
        lock (_gate)
        {
            return _next;
        }
    }

    /// <summary>The next sequence number.</summary>
    public long Next()
    {
        lock (_gate)
        {
            if (_next > _reservedUpTo)
            {
                Reserve(_next + _block - 1);
            }

            return _next++;
        }
    }

    private void Reserve(long upTo)
    {
        string temporary = _path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 64, FileOptions.None))
        {
            Span<byte> digits = stackalloc byte[24];
            upTo.TryFormat(digits, out int written, provider: CultureInfo.InvariantCulture);
            stream.Write(digits[..written]);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, _path, overwrite: true);
        _reservedUpTo = upTo;
    }
}
