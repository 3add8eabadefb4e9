using System.Globalization;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.ModelPackages.Manifest;
using OpenCvSharp;

namespace EdgeRuntime.Vision.Imaging;

/// <summary>
/// Image files in and out: decoding PNG, JPEG or BMP into pooled frames, writing class-index masks and
/// rendering inspection overlays. Stateless and thread-safe; every native image is disposed before returning.
/// </summary>
public static class ImageFiles
{
    /// <summary>
    /// Decodes the image file at <paramref name="path"/> into a frame rented from <paramref name="pool"/>
    /// (colour images are converted to grey for <see cref="PixelFormat.Gray8"/> and vice versa). The caller owns
    /// the frame and disposes it. <see cref="Frame.FrameId"/> is set to the file name.
    /// </summary>
    /// <exception cref="FrameSourceException">The file does not exist or is not a decodable image; the message names it.</exception>
    public static Frame Read(string path, FramePool pool, PixelFormat format = PixelFormat.Bgr24)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(pool);
        if (!File.Exists(path))
        {
            throw new FrameSourceException($"image file {path} does not exist");
        }

        try
        {
            using Mat image = Cv2.ImRead(path, ModeOf(format));
            return ToFrame(image, path, pool, format);
        }
        catch (OpenCVException ex)
        {
            throw new FrameSourceException($"image file {path} could not be decoded: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Decodes an encoded image held in memory; <paramref name="name"/> (a file name, a topic) names it in errors
    /// and becomes the frame id. The caller owns the returned frame and disposes it.
    /// </summary>
    /// <exception cref="FrameSourceException">The bytes are not a decodable image; the message names <paramref name="name"/>.</exception>
    public static Frame Decode(ReadOnlySpan<byte> encoded, string name, FramePool pool, PixelFormat format = PixelFormat.Bgr24)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pool);
        if (encoded.IsEmpty)
        {
            throw new FrameSourceException($"image {name} is empty (0 bytes)");
        }

        try
        {
            using Mat image = Cv2.ImDecode(encoded, ModeOf(format));
            return ToFrame(image, name, pool, format);
        }
        catch (OpenCVException ex)
        {
            throw new FrameSourceException($"image {name} could not be decoded: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Reads a mask image: returns one byte per pixel, 1 where any colour channel is non-zero, else 0.
    /// </summary>
    /// <exception cref="FrameSourceException">The file does not exist or is not a decodable image.</exception>
    internal static byte[] ReadMask(string path, out int width, out int height)
    {
        using var pool = new FramePool(1);
        using Frame frame = Read(path, pool);
        width = frame.Width;
        height = frame.Height;
        var mask = new byte[width * height];
        ReadOnlySpan<byte> pixels = frame.Pixels;
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = (pixels[3 * i] | pixels[(3 * i) + 1] | pixels[(3 * i) + 2]) != 0 ? (byte)1 : (byte)0;
        }

        return mask;
    }

    /// <summary>
    /// Writes a class map (one class index per pixel, row-major, <paramref name="width"/> * <paramref name="height"/>
    /// bytes) as an 8-bit single-channel PNG whose pixel values are the class indices.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written; the message names it.</exception>
    public static void WriteClassMap(string path, ReadOnlySpan<byte> classMap, int width, int height)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckMapLength(classMap, width, height);
        using var image = new Mat(height, width, MatType.CV_8UC1);
        classMap[..(width * height)].CopyTo(image.AsSpan<byte>());
        Write(path, image);
    }

    /// <summary>
    /// Renders what the model saw onto the frame and writes it as an image (format from the extension, PNG
    /// recommended): defect pixels blended with their class colour from the manifest, a box around each defect in
    /// the class colour, labelled with the class name and its highest probability.
    /// </summary>
    /// <param name="path">Where to write; the extension picks the format.</param>
    /// <param name="frame">The inspected frame (not modified).</param>
    /// <param name="classMap">Per-pixel class indices of the frame (as filled by the postprocessor).</param>
    /// <param name="manifest">The model's manifest: class names and colours.</param>
    /// <param name="defects">The defects to box, in frame pixels.</param>
    /// <param name="opacity">Weight of the class colour over the image, 0..1.</param>
    /// <exception cref="IOException">The file cannot be written; the message names it.</exception>
    public static void WriteOverlay(
        string path,
        Frame frame,
        ReadOnlySpan<byte> classMap,
        ModelManifest manifest,
        IReadOnlyList<Defect> defects,
        float opacity = 0.45f)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(defects);
        ArgumentOutOfRangeException.ThrowIfLessThan(opacity, 0f);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(opacity, 1f);
        int width = frame.Width;
        int height = frame.Height;
        CheckMapLength(classMap, width, height);

        int classes = manifest.ClassCount;
        Span<byte> colours = stackalloc byte[classes * 3];
        for (int c = 0; c < classes; c++)
        {
            ParseColour(manifest.Classes[c].Color, colours.Slice(c * 3, 3));
        }

        using var image = new Mat(height, width, MatType.CV_8UC3);
        Blend(frame, classMap, colours, opacity, image.AsSpan<byte>());
        for (int i = 0; i < defects.Count; i++)
        {
            Defect defect = defects[i];
            int c = (uint)defect.ClassIndex < (uint)classes ? defect.ClassIndex : 0;
            var colour = new Scalar(colours[c * 3], colours[(c * 3) + 1], colours[(c * 3) + 2]);
            PixelRect b = defect.Bounds;

            // One pixel outside the bounds, so the box does not hide the defect's own edge pixels.
            Cv2.Rectangle(image, new Rect(b.X - 1, b.Y - 1, b.Width + 2, b.Height + 2), colour, 1, LineTypes.Link8);
            string label = manifest.Classes[c].Name + " " + defect.MaxScore.ToString("0.00", CultureInfo.InvariantCulture);
            var at = new Point(Math.Max(0, b.X - 1), b.Y > 14 ? b.Y - 4 : b.Y + b.Height + 12);
            using InputOutputArray target = InputOutputArray.Create(image);
            Cv2.PutText(target, label, at, HersheyFonts.HersheySimplex, 0.4, colour, 1, LineTypes.AntiAlias);
        }

        Write(path, image);
    }

    private static ImreadModes ModeOf(PixelFormat format) => format switch
    {
        PixelFormat.Bgr24 => ImreadModes.Color,
        PixelFormat.Gray8 => ImreadModes.Grayscale,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown pixel format"),
    };

    private static Frame ToFrame(Mat image, string name, FramePool pool, PixelFormat format)
    {
        if (image.Empty())
        {
            throw new FrameSourceException($"image {name} is not a decodable image (PNG, JPEG or BMP expected)");
        }

        MatType expected = format == PixelFormat.Bgr24 ? MatType.CV_8UC3 : MatType.CV_8UC1;
        if (image.Type() != expected || !image.IsContinuous())
        {
            throw new FrameSourceException($"image {name} decoded to an unexpected {image.Type()} layout");
        }

        Frame frame = pool.Rent(image.Width, image.Height, format);
        image.AsSpan<byte>()[..frame.Length].CopyTo(frame.Pixels);
        frame.FrameId = Path.GetFileName(name);
        return frame;
    }

    private static void Blend(Frame frame, ReadOnlySpan<byte> classMap, ReadOnlySpan<byte> colours, float opacity, Span<byte> bgr)
    {
        ReadOnlySpan<byte> pixels = frame.Pixels;
        bool gray = frame.Format == PixelFormat.Gray8;
        int count = frame.Width * frame.Height;
        float keep = 1f - opacity;
        for (int i = 0; i < count; i++)
        {
            int d = i * 3;
            int c = classMap[i];
            for (int channel = 0; channel < 3; channel++)
            {
                byte value = gray ? pixels[i] : pixels[d + channel];
                bgr[d + channel] = c == 0 || (c * 3) >= colours.Length
                    ? value
                    : (byte)((value * keep) + (colours[(c * 3) + channel] * opacity) + 0.5f);
            }
        }
    }

    /// <summary>Parses <c>#rrggbb</c> into blue, green, red.</summary>
    private static void ParseColour(string colour, Span<byte> bgr)
    {
        if (colour.Length != 7 || colour[0] != '#' ||
            !int.TryParse(colour.AsSpan(1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int rgb))
        {
            throw new ArgumentException($"class colour \"{colour}\" is not of the form #rrggbb", nameof(colour));
        }

        bgr[0] = (byte)rgb;
        bgr[1] = (byte)(rgb >> 8);
        bgr[2] = (byte)(rgb >> 16);
    }

    private static void CheckMapLength(ReadOnlySpan<byte> classMap, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (classMap.Length < width * height)
        {
            throw new ArgumentException($"the class map has {classMap.Length} bytes; a {width}x{height} image needs {width * height}", nameof(classMap));
        }
    }

    private static void Write(string path, Mat image)
    {
        bool written;
        try
        {
            written = Cv2.ImWrite(path, image);
        }
        catch (OpenCVException ex)
        {
            throw new IOException($"cannot write image {path}: {ex.Message}", ex);
        }

        if (!written)
        {
            throw new IOException($"cannot write image {path} (is the folder writable and the extension .png, .jpg or .bmp?)");
        }
    }
}
