namespace EdgeRuntime.Core.Frames;

/// <summary>Pixel layouts a frame can carry. Interleaved, row-major, 8 bits per channel.</summary>
public enum PixelFormat
{
    /// <summary>Three channels in OpenCV's native blue-green-red order.</summary>
    Bgr24,

    /// <summary>One grey channel.</summary>
    Gray8,
}

/// <summary>Helpers on <see cref="PixelFormat"/>.</summary>
public static class PixelFormatExtensions
{
    /// <summary>Bytes per pixel of the format.</summary>
    public static int BytesPerPixel(this PixelFormat format) => format switch
    {
        PixelFormat.Bgr24 => 3,
        PixelFormat.Gray8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown pixel format"),
    };
}
