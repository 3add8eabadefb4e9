using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Preprocessing;
using OpenCvSharp;

namespace EdgeRuntime.Vision.Tests.Preprocessing;

public sealed class ManifestPreprocessorTests : IDisposable
{
    // Values are around -2..2.7; float arithmetic with a fused multiply-add differs from the double reference by ~1e-6.
    private const float Tolerance = 1e-5f;

    private readonly FramePool _pool = new();
    private readonly ManifestPreprocessor _preprocessor = new();

    public void Dispose() => _pool.Dispose();

    [Theory]
    [InlineData(ColorOrder.Rgb, TensorLayout.Nchw)]
    [InlineData(ColorOrder.Bgr, TensorLayout.Nchw)]
    [InlineData(ColorOrder.Rgb, TensorLayout.Nhwc)]
    [InlineData(ColorOrder.Bgr, TensorLayout.Nhwc)]
    public void TiledColourInputMatchesNaiveReference(ColorOrder order, TensorLayout layout)
    {
        // 37 columns: two 16-pixel vector blocks plus a scalar tail; several tile rows and columns with uneven overlaps.
        ModelManifest manifest = TestManifests.Segmentation(width: 37, height: 20, overlap: 5, colorOrder: order, layout: layout);
        using Frame frame = RandomFrame(100, 50, PixelFormat.Bgr24, seed: 1);

        float[] actual = Run(frame, manifest, out TileLayout tiles);

        Assert.True(tiles.Count > 4);
        AssertClose(NaiveTiles(frame, tiles, manifest, grayReference: null), actual);
    }

    [Fact]
    public void ChannelOrderFollowsTheManifest()
    {
        // One pure-blue pixel: an RGB model must see it in its third plane, a BGR model in its first.
        using Frame frame = _pool.Rent(16, 16, PixelFormat.Bgr24);
        frame.Pixels.Clear();
        frame.Pixels[0] = 255;

        float[] rgb = Run(frame, TestManifests.Segmentation(colorOrder: ColorOrder.Rgb), out _);
        float[] bgr = Run(frame, TestManifests.Segmentation(colorOrder: ColorOrder.Bgr), out _);

        const int Plane = 16 * 16;
        Assert.Equal((1.0 - 0.406) / 0.225, rgb[2 * Plane], 1e-5);
        Assert.Equal((0.0 - 0.485) / 0.229, rgb[0], 1e-5);
        Assert.Equal((1.0 - 0.485) / 0.229, bgr[0], 1e-5);
        Assert.Equal((0.0 - 0.406) / 0.225, bgr[2 * Plane], 1e-5);
    }

    [Fact]
    public void GrayModelFedFromColourFrameSeesOpenCvGreyLevels()
    {
        ModelManifest manifest = TestManifests.Segmentation(width: 40, height: 24, overlap: 6, colorOrder: ColorOrder.Gray);
        using Frame frame = RandomFrame(90, 41, PixelFormat.Bgr24, seed: 2);
        byte[] gray = OpenCvGray(frame);

        float[] actual = Run(frame, manifest, out TileLayout tiles);

        AssertClose(NaiveTiles(frame, tiles, manifest, gray), actual);
    }

    [Theory]
    [InlineData(TensorLayout.Nchw)]
    [InlineData(TensorLayout.Nhwc)]
    public void GreyFrameFeedsEveryChannelOfAColourModel(TensorLayout layout)
    {
        ModelManifest manifest = TestManifests.Segmentation(width: 33, height: 17, overlap: 3, layout: layout);
        using Frame frame = RandomFrame(70, 30, PixelFormat.Gray8, seed: 3);

        float[] actual = Run(frame, manifest, out TileLayout tiles);

        AssertClose(NaiveTiles(frame, tiles, manifest, grayReference: null), actual);
    }

    [Theory]
    [InlineData(TensorLayout.Nchw)]
    [InlineData(TensorLayout.Nhwc)]
    public void FrameSmallerThanTheTileIsPaddedByReplicatingItsEdge(TensorLayout layout)
    {
        ModelManifest manifest = TestManifests.Segmentation(width: 32, height: 24, layout: layout);
        using Frame frame = RandomFrame(19, 7, PixelFormat.Bgr24, seed: 4);

        float[] actual = Run(frame, manifest, out TileLayout tiles);

        Assert.Equal(1, tiles.Count);
        Assert.Equal(new PixelRect(0, 0, 19, 7), tiles.Tiles[0]);
        AssertClose(NaiveTiles(frame, tiles, manifest, grayReference: null), actual);

        // The far corner of the padding repeats the frame's bottom-right pixel (red channel of an RGB model).
        int corner = layout == TensorLayout.Nchw ? (31 + (23 * 32)) : ((31 + (23 * 32)) * 3);
        byte red = frame.Pixels[(((6 * 19) + 18) * 3) + 2];
        Assert.Equal(((red / 255.0) - 0.485) / 0.229, actual[corner], 1e-5);
    }

    [Fact]
    public void EachTileStartsAtItsRectangleInTheFrame()
    {
        ModelManifest manifest = TestManifests.Segmentation(width: 16, height: 16, overlap: 4, colorOrder: ColorOrder.Gray);
        using Frame frame = _pool.Rent(40, 30, PixelFormat.Gray8);
        for (int y = 0; y < 30; y++)
        {
            for (int x = 0; x < 40; x++)
            {
                // Encodes the position, so an offset error shows as a wrong value.
                frame.Pixels[(y * 40) + x] = (byte)((x * 3) + y);
            }
        }

        float[] actual = Run(frame, manifest, out TileLayout tiles);

        for (int t = 0; t < tiles.Count; t++)
        {
            PixelRect tile = tiles.Tiles[t];
            float expected = (float)(((((tile.X + 5) * 3) + tile.Y + 2) / 255.0 - 0.45) / 0.226);
            Assert.Equal(expected, actual[(t * 256) + (2 * 16) + 5], 1e-5);
        }
    }

    [Theory]
    [InlineData(ColorOrder.Rgb, TensorLayout.Nchw)]
    [InlineData(ColorOrder.Bgr, TensorLayout.Nhwc)]
    [InlineData(ColorOrder.Gray, TensorLayout.Nchw)]
    public void StretchResizesTheFrameBilinearlyLikeOpenCv(ColorOrder order, TensorLayout layout)
    {
        ModelManifest manifest = TestManifests.Segmentation(width: 24, height: 20, colorOrder: order, layout: layout, resize: ResizeMode.Stretch);
        using Frame frame = RandomFrame(61, 47, PixelFormat.Bgr24, seed: 5);

        float[] actual = Run(frame, manifest, out TileLayout tiles);

        Assert.Equal(1, tiles.Count);
        Assert.Equal(new PixelRect(0, 0, 61, 47), tiles.Tiles[0]);

        // OpenCV interpolates 8-bit images in fixed point and rounds; ours stays in floating point: within a grey level.
        using Mat source = Mat.FromPixelData(47, 61, MatType.CV_8UC3, frame.Buffer);
        using Mat resized = new();
        Cv2.Resize(source, resized, new Size(24, 20), 0, 0, InterpolationFlags.Linear);
        using Mat converted = new();
        if (order == ColorOrder.Gray)
        {
            Cv2.CvtColor(resized, converted, ColorConversionCodes.BGR2GRAY);
        }
        else if (order == ColorOrder.Rgb)
        {
            Cv2.CvtColor(resized, converted, ColorConversionCodes.BGR2RGB);
        }
        else
        {
            resized.CopyTo(converted);
        }

        byte[] reference = converted.AsSpan<byte>().ToArray();
        NormalizationSpec n = manifest.Input.Normalization;
        int channels = manifest.Input.Channels;
        for (int y = 0; y < 20; y++)
        {
            for (int x = 0; x < 24; x++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int index = layout == TensorLayout.Nchw ? (c * 480) + (y * 24) + x : (((y * 24) + x) * channels) + c;
                    double pixel = ((actual[index] * n.Std[c]) + n.Mean[c]) / n.Scale;
                    Assert.InRange(pixel - reference[(((y * 24) + x) * channels) + c], -1.0, 1.0);
                }
            }
        }
    }

    [Fact]
    public void LayoutsAreCachedPerFrameSizeAndManifest()
    {
        ModelManifest tiled = TestManifests.Segmentation(width: 32, height: 32, overlap: 8);
        ModelManifest stretched = TestManifests.Segmentation(width: 32, height: 32, resize: ResizeMode.Stretch);

        TileLayout first = _preprocessor.GetLayout(100, 60, tiled);

        Assert.Same(first, _preprocessor.GetLayout(100, 60, tiled));
        Assert.NotSame(first, _preprocessor.GetLayout(100, 61, tiled));
        Assert.Equal((32, 32, 8), (first.TileWidth, first.TileHeight, first.Overlap));
        TileLayout whole = _preprocessor.GetLayout(100, 60, stretched);
        Assert.Equal(1, whole.Count);
        Assert.Equal(new PixelRect(0, 0, 100, 60), whole.Tiles[0]);
    }

    [Fact]
    public void SteadyStatePreprocessingAllocatesNothing()
    {
        ModelManifest manifest = TestManifests.Segmentation(width: 64, height: 64, overlap: 8);
        using Frame frame = RandomFrame(150, 100, PixelFormat.Bgr24, seed: 6);
        TileLayout layout = _preprocessor.GetLayout(150, 100, manifest);
        float[] input = new float[layout.Count * 3 * 64 * 64];
        _preprocessor.Preprocess(frame, layout, manifest, input);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            layout = _preprocessor.GetLayout(150, 100, manifest);
            _preprocessor.Preprocess(frame, layout, manifest, input);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void InputTensorTooSmallForTheLayoutIsRefused()
    {
        ModelManifest manifest = TestManifests.Segmentation();
        using Frame frame = RandomFrame(40, 40, PixelFormat.Bgr24, seed: 7);
        TileLayout layout = _preprocessor.GetLayout(40, 40, manifest);

        var error = Assert.Throws<ArgumentException>(() => _preprocessor.Preprocess(frame, layout, manifest, new float[3 * 16 * 16]));

        Assert.Contains($"{layout.Count} items of 3x16x16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FrameOfAnotherSizeThanTheLayoutIsRefused()
    {
        ModelManifest manifest = TestManifests.Segmentation();
        using Frame frame = RandomFrame(40, 40, PixelFormat.Bgr24, seed: 8);
        TileLayout layout = _preprocessor.GetLayout(41, 40, manifest);

        var error = Assert.Throws<ArgumentException>(() => _preprocessor.Preprocess(frame, layout, manifest, new float[layout.Count * 768]));

        Assert.Contains("40x40", error.Message, StringComparison.Ordinal);
        Assert.Contains("41x40", error.Message, StringComparison.Ordinal);
    }

    private float[] Run(Frame frame, ModelManifest manifest, out TileLayout layout)
    {
        layout = _preprocessor.GetLayout(frame.Width, frame.Height, manifest);
        int item = manifest.Input.Channels * manifest.Input.Width * manifest.Input.Height;

        // One spare item filled with a sentinel: the preprocessor must write the layout's items and nothing more.
        float[] input = new float[(layout.Count + 1) * item];
        input.AsSpan().Fill(float.NaN);
        _preprocessor.Preprocess(frame, layout, manifest, input);
        Assert.All(input.AsSpan(layout.Count * item).ToArray(), value => Assert.True(float.IsNaN(value)));
        return input[..(layout.Count * item)];
    }

    private Frame RandomFrame(int width, int height, PixelFormat format, int seed)
    {
        Frame frame = _pool.Rent(width, height, format);
        new Random(seed).NextBytes(frame.Pixels);
        return frame;
    }

    private static byte[] OpenCvGray(Frame frame)
    {
        using Mat source = Mat.FromPixelData(frame.Height, frame.Width, MatType.CV_8UC3, frame.Buffer);
        using Mat gray = new();
        Cv2.CvtColor(source, gray, ColorConversionCodes.BGR2GRAY);
        return gray.AsSpan<byte>().ToArray();
    }

    /// <summary>Straight from the manifest's formula, one value at a time, in double precision.</summary>
    private static float[] NaiveTiles(Frame frame, TileLayout layout, ModelManifest manifest, byte[]? grayReference)
    {
        InputSpec input = manifest.Input;
        int w = input.Width;
        int h = input.Height;
        int channels = input.Channels;
        var expected = new float[layout.Count * channels * w * h];
        for (int t = 0; t < layout.Count; t++)
        {
            PixelRect tile = layout.Tiles[t];
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    int fx = tile.X + Math.Min(x, tile.Width - 1);
                    int fy = tile.Y + Math.Min(y, tile.Height - 1);
                    for (int c = 0; c < channels; c++)
                    {
                        double pixel = SourceValue(frame, fx, fy, input.ColorOrder, c, grayReference);
                        double value = ((pixel * input.Normalization.Scale) - input.Normalization.Mean[c]) / input.Normalization.Std[c];
                        int index = input.Layout == TensorLayout.Nchw || channels == 1
                            ? (t * channels * w * h) + (c * w * h) + (y * w) + x
                            : (t * channels * w * h) + (((y * w) + x) * channels) + c;
                        expected[index] = (float)value;
                    }
                }
            }
        }

        return expected;
    }

    private static double SourceValue(Frame frame, int x, int y, ColorOrder order, int channel, byte[]? grayReference)
    {
        int pixel = (y * frame.Width) + x;
        if (frame.Format == PixelFormat.Gray8)
        {
            return frame.Pixels[pixel];
        }

        return order switch
        {
            ColorOrder.Rgb => frame.Pixels[(pixel * 3) + (2 - channel)],
            ColorOrder.Bgr => frame.Pixels[(pixel * 3) + channel],
            _ => grayReference![pixel],
        };
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (MathF.Abs(expected[i] - actual[i]) > Tolerance)
            {
                Assert.Fail($"element {i}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }
}
