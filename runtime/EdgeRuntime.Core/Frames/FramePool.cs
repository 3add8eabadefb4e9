using System.Collections.Concurrent;

namespace EdgeRuntime.Core.Frames;

/// <summary>
/// Recycles frames so that a steady stream of same-sized images allocates nothing. The pool is
/// bounded: frames beyond <see cref="MaxRetained"/> release their buffer instead of being kept.
/// Thread-safe.
/// </summary>
public sealed class FramePool : IDisposable
{
    private readonly ConcurrentBag<Frame> _free = [];
    private int _retained;
    private bool _disposed;

    /// <param name="maxRetained">How many idle frames the pool keeps for reuse.</param>
    public FramePool(int maxRetained = 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRetained);
        MaxRetained = maxRetained;
    }

    /// <summary>How many idle frames the pool keeps.</summary>
    public int MaxRetained { get; }

    /// <summary>Rents a frame of the given geometry; the caller owns it and must dispose it.</summary>
    public Frame Rent(int width, int height, PixelFormat format)
    {
        if (_free.TryTake(out Frame? frame))
        {
            Interlocked.Decrement(ref _retained);
        }
        else
        {
            frame = new Frame(this, checked(width * height * format.BytesPerPixel()));
        }

        frame.Reset(width, height, format);
        return frame;
    }

    internal bool TryReturn(Frame frame)
    {
        if (Volatile.Read(ref _disposed) || Interlocked.Increment(ref _retained) > MaxRetained)
        {
            Interlocked.Decrement(ref _retained);
            return false;
        }

        _free.Add(frame);
        return true;
    }

    /// <summary>Releases the buffers of the idle frames; frames still rented release theirs on disposal.</summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        while (_free.TryTake(out Frame? frame))
        {
            frame.ReleaseBuffer();
        }
    }
}
