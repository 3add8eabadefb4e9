using EdgeModels.Onnx.Quantization;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Imaging;
using EdgeRuntime.Vision.Preprocessing;

namespace EdgeModels.Cli.Calibration;

/// <summary>
/// Adapter from a folder of images to calibration samples: each image is decoded and preprocessed by the
/// runtime's own <see cref="ManifestPreprocessor"/> (tiling or stretch, colour order, normalization, layout per the
/// package manifest), and every tile becomes one sample, so calibration sees exactly what production feeds the model.
/// </summary>
/// <remarks>Enumerate on one thread at a time; the yielded buffer is reused for the next sample.</remarks>
internal sealed class CalibrationImageSource : ICalibrationSampleSource
{
    private readonly IReadOnlyList<string> _images;
    private readonly ModelManifest _manifest;
    private readonly int _itemElements;

    public CalibrationImageSource(IReadOnlyList<string> images, ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(manifest);
        _images = images;
        _manifest = manifest;
        InputSpec input = manifest.Input;
        _itemElements = input.Channels * input.Width * input.Height;
        Shape = input.Layout == TensorLayout.Nhwc
            ? [1, input.Height, input.Width, input.Channels]
            : [1, input.Channels, input.Height, input.Width];
    }

    public IReadOnlyList<long> Shape { get; }

    /// <summary>Unknown up front: an image larger than the model input yields one sample per tile.</summary>
    public int? Count => null;

    public int ImageCount => _images.Count;

    /// <summary>Images decoded so far in the current enumeration.</summary>
    public int ImagesRead { get; private set; }

    /// <summary>
    /// The calibration images in <paramref name="directory"/> (PNG, JPEG, BMP; not recursive, but an
    /// <c>images/</c> subfolder is used when the folder itself holds none, as <c>edge-models generate</c> writes),
    /// in name order, thinned evenly to at most <paramref name="maxImages"/>.
    /// </summary>
    public static IReadOnlyList<string> FindImages(string directory, int maxImages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxImages);
        List<string> images = List(directory);
        string nested = Path.Combine(directory, "images");
        if (images.Count == 0 && Directory.Exists(nested))
        {
            images = List(nested);
        }

        if (images.Count <= maxImages)
        {
            return images;
        }

        // Evenly spaced rather than the first N, so that a folder sorted by time or by class is covered throughout.
        return [.. Enumerable.Range(0, maxImages).Select(i => images[(int)((long)i * images.Count / maxImages)])];
    }

    /// <exception cref="FrameSourceException">An image cannot be decoded; the message names it.</exception>
    public IEnumerable<float[]> ReadSamples(CancellationToken cancellationToken)
    {
        ManifestPreprocessor preprocessor = new();
        using FramePool pool = new(2);
        PixelFormat format = _manifest.Input.ColorOrder == ColorOrder.Gray ? PixelFormat.Gray8 : PixelFormat.Bgr24;
        float[] tiles = [];
        float[] sample = new float[_itemElements];
        ImagesRead = 0;
        foreach (string path in _images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Preprocess(path, preprocessor, pool, format, ref tiles);
            ImagesRead++;
            for (int t = 0; t < count; t++)
            {
                tiles.AsSpan(t * _itemElements, _itemElements).CopyTo(sample);
                yield return sample;
            }
        }
    }

    private int Preprocess(string path, ManifestPreprocessor preprocessor, FramePool pool, PixelFormat format, ref float[] tiles)
    {
        using Frame frame = ImageFiles.Read(path, pool, format);
        TileLayout layout = preprocessor.GetLayout(frame.Width, frame.Height, _manifest);
        int needed = layout.Count * _itemElements;
        if (tiles.Length < needed)
        {
            tiles = new float[needed];
        }

        preprocessor.Preprocess(frame, layout, _manifest, tiles);
        return layout.Count;
    }

    private static List<string> List(string directory) => [.. ImageFolder.List(directory)];
}
