using EdgeRuntime.Core.Frames;

namespace EdgeRuntime.Vision.Imaging;

/// <summary>
/// <see cref="IImageDecoder"/> over <see cref="ImageFiles.Decode"/>: BGR frames, as cameras and the replay source
/// deliver them, so a stored image is judged exactly as a captured one. Stateless and thread-safe.
/// </summary>
public sealed class OpenCvImageDecoder : IImageDecoder
{
    /// <inheritdoc />
    public Frame Decode(ReadOnlySpan<byte> encoded, string name, FramePool pool) => ImageFiles.Decode(encoded, name, pool);
}
