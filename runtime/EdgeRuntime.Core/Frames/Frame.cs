using System.Buffers;

namespace EdgeRuntime.Core.Frames;

/// <summary>
/// One captured image in a pooled pixel buffer. A frame has one owner at a time: the stage holding it
/// either hands it on or disposes it, and disposal returns the buffer to its <see cref="FramePool"/>.
/// Not thread-safe; it moves between stages through channels, never shared.
/// </summary>
public sealed class Frame : IDisposable
{
    private readonly FramePool? _pool;
    private byte[] _buffer;

    internal Frame(FramePool? pool, int capacityBytes)
    {
        _pool = pool;
        _buffer = capacityBytes == 0 ? [] : ArrayPool<byte>.Shared.Rent(capacityBytes);
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; private set; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; private set; }

    /// <summary>Pixel layout.</summary>
    public PixelFormat Format { get; private set; }

    /// <summary>Bytes per row; rows are packed (no padding).</summary>
    public int Stride => Width * Format.BytesPerPixel();

    /// <summary>Number of meaningful bytes in <see cref="Pixels"/>.</summary>
    public int Length => Stride * Height;

    /// <summary>Identifier of the frame from its source (file name, camera frame counter).</summary>
    public string FrameId { get; set; } = string.Empty;

    /// <summary>Monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the exposure.</summary>
    public long CapturedTimestamp { get; set; }

    /// <summary>The pixels; valid until the frame is disposed.</summary>
    public Span<byte> Pixels => _buffer.AsSpan(0, Length);

    /// <summary>The pixel buffer itself, for APIs that need an array (pinned by the caller); valid until disposal.</summary>
    public byte[] Buffer => _buffer;

    /// <summary>Sets the geometry, growing the buffer if needed. Contents are undefined afterwards.</summary>
    public void Reset(int width, int height, PixelFormat format)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int needed = checked(width * height * format.BytesPerPixel());
        if (_buffer.Length < needed)
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = ArrayPool<byte>.Shared.Rent(needed);
        }

        Width = width;
        Height = height;
        Format = format;
        FrameId = string.Empty;
        CapturedTimestamp = 0;
    }

    /// <summary>Returns the frame to its pool, or its buffer to the shared array pool when it has none.</summary>
    public void Dispose()
    {
        if (_pool is not null && _pool.TryReturn(this))
        {
            return;
        }

        ReleaseBuffer();
    }

    internal void ReleaseBuffer()
    {
        byte[] buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
