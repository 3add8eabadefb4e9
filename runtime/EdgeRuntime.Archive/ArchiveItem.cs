using System.Buffers;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Archive;

/// <summary>
/// A frame waiting to be archived: a copy of its result and its pixels in a buffer rented from the shared array
/// pool. Items are recycled by <see cref="ImageArchiveSink"/>, keeping their buffer, so steady archiving allocates
/// nothing on the publish stage. One owner at a time.
/// </summary>
internal sealed class ArchiveItem
{
    private byte[] _pixels = [];

    public InspectionResult Result { get; } = new();

    public int Width { get; private set; }

    public int Height { get; private set; }

    public PixelFormat Format { get; private set; }

    public int Length => Width * Height * Format.BytesPerPixel();

    /// <summary>The pixel buffer; at least <see cref="Length"/> bytes, packed rows.</summary>
    public byte[] Pixels => _pixels;

    public void CopyFrom(InspectionResult result, Frame frame)
    {
        result.CopyTo(Result);
        int length = frame.Length;
        if (_pixels.Length < length)
        {
            ReleaseBuffer();
            _pixels = ArrayPool<byte>.Shared.Rent(length);
        }

        frame.Pixels.CopyTo(_pixels);
        Width = frame.Width;
        Height = frame.Height;
        Format = frame.Format;
    }

    public void ReleaseBuffer()
    {
        byte[] pixels = _pixels;
        _pixels = [];
        if (pixels.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }
}
