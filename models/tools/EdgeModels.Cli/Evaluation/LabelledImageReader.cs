using EdgeRuntime.Core.Frames;
using EdgeRuntime.Vision.Imaging;

namespace EdgeModels.Cli.Evaluation;

/// <summary>
/// Reads one labelled image as eval and tune both need it: the image in BGR, its truth mask in one 8-bit channel, the
/// two of the same size and the mask holding only class indices. Every refusal names the file. Stateless.
/// </summary>
internal static class LabelledImageReader
{
    /// <summary>
    /// The image and its mask, rented from <paramref name="frames"/>; the caller disposes both. The mask may hold only
    /// class indices of a model with <paramref name="classCount"/> classes.
    /// </summary>
    /// <exception cref="EvaluationInputException">A file is unreadable, the sizes differ or the mask holds a value that
    /// is not a class index.</exception>
    public static (Frame Image, Frame Mask) Read(LabelledImage item, FramePool frames, int classCount)
    {
        ArgumentNullException.ThrowIfNull(item);
        Frame image = Read(item.Image, "image", PixelFormat.Bgr24, frames);
        Frame? mask = null;
        try
        {
            mask = Read(item.Mask, "mask", PixelFormat.Gray8, frames);
            if (mask.Width != image.Width || mask.Height != image.Height)
            {
                throw new EvaluationInputException(
                    $"mask {item.Mask} is {mask.Width}x{mask.Height} but image {item.Image} is {image.Width}x{image.Height}");
            }

            CheckClasses(mask, classCount, item.Mask);
            return (image, mask);
        }
        catch
        {
            mask?.Dispose();
            image.Dispose();
            throw;
        }
    }

    private static void CheckClasses(Frame mask, int classCount, string maskPath)
    {
        if (classCount > byte.MaxValue)
        {
            return;
        }

        ReadOnlySpan<byte> truth = mask.Pixels;
        int bad = truth.IndexOfAnyInRange((byte)classCount, byte.MaxValue);
        if (bad >= 0)
        {
            throw new EvaluationInputException(
                $"mask {maskPath} has value {truth[bad]} at pixel ({bad % mask.Width}, {bad / mask.Width}); its pixel values must be class indices 0-{classCount - 1} " +
                "(an 8-bit single-channel PNG, as edge-models generate writes)");
        }
    }

    private static Frame Read(string path, string role, PixelFormat format, FramePool frames)
    {
        try
        {
            return ImageFiles.Read(path, frames, format);
        }
        catch (FrameSourceException ex)
        {
            throw new EvaluationInputException($"cannot read {role} {path}: {ex.Message}", ex);
        }
    }
}
