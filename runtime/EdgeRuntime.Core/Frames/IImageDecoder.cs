namespace EdgeRuntime.Core.Frames;

/// <summary>
/// Turns an encoded image (PNG, JPEG, BMP) into a frame, for the parts of the runtime that judge stored images rather
/// than camera frames (a model package's golden samples). Implemented by the vision adapter. Thread-safe.
/// </summary>
public interface IImageDecoder
{
    /// <summary>
    /// Decodes <paramref name="encoded"/> into a frame rented from <paramref name="pool"/>, in the pixel format cameras
    /// deliver; <paramref name="name"/> names the image in errors and becomes the frame id. The caller owns the frame.
    /// </summary>
    /// <exception cref="FrameSourceException">The bytes are not a decodable image; the message names <paramref name="name"/>.</exception>
    Frame Decode(ReadOnlySpan<byte> encoded, string name, FramePool pool);
}
