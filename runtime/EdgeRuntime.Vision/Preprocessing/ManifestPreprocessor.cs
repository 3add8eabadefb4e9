using System.Buffers;
using System.Runtime.CompilerServices;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Imaging;

namespace EdgeRuntime.Vision.Preprocessing;

/// <summary>
/// Feeds frames to a model exactly as its manifest describes: tiles or a stretch resize, colour order,
/// <c>value = (pixel * scale - mean[c]) / std[c]</c>, NCHW or NHWC.
/// </summary>
/// <remarks>
/// <para><b>Tile mode.</b> The frame is cut by <see cref="GetLayout"/> into tiles of the model's input size
/// (<see cref="TileLayout"/>); one batch item per tile. Where the frame is smaller than a tile, the tile is padded by
/// replicating the last real column and row: a constant pad would put an artificial step edge next to the part,
/// which a defect model can read as a scratch, while a replicated border carries no new structure. The padded
/// area is never stitched back, so only its influence on neighbouring real pixels matters.</para>
/// <para><b>Stretch mode.</b> The whole frame is resized bilinearly (pixel centres aligned, as OpenCV's
/// <c>INTER_LINEAR</c>, in floating point) to the input size: one batch item, and the layout has one tile that
/// covers the frame.</para>
/// <para>Grey models fed from BGR frames see OpenCV's <c>cvtColor(BGR2GRAY)</c> grey levels; colour models fed
/// from grey frames see the grey value in every channel.</para>
/// <para>Thread-safe and allocation-free per frame once a manifest and frame size have been seen (plans and
/// layouts are cached per manifest instance, weakly, so a replaced model's entries are collected with it).</para>
/// </remarks>
public sealed class ManifestPreprocessor : IFramePreprocessor
{
    private static readonly ConditionalWeakTable<ModelManifest, PreprocessPlan>.CreateValueCallback s_createPlan =
        static manifest => new PreprocessPlan(manifest);

    private readonly ConditionalWeakTable<ModelManifest, PreprocessPlan> _plans = new();

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The manifest's input section is inconsistent.</exception>
    public TileLayout GetLayout(int frameWidth, int frameHeight, ModelManifest manifest)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frameWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frameHeight);
        return PlanFor(manifest).GetLayout(frameWidth, frameHeight);
    }

    /// <inheritdoc />
    /// <remarks>
    /// <paramref name="input"/> must hold at least <c>layout.Count</c> items of the model's input size; only that
    /// prefix is written. The frame must have the size the layout was made for.
    /// </remarks>
    public void Preprocess(Frame frame, TileLayout layout, ModelManifest manifest, Span<float> input)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(layout);
        PreprocessPlan plan = PlanFor(manifest);
        if (frame.Width != layout.FrameWidth || frame.Height != layout.FrameHeight)
        {
            throw new ArgumentException(
                $"frame {frame.FrameId} is {frame.Width}x{frame.Height} but the layout was made for {layout.FrameWidth}x{layout.FrameHeight}",
                nameof(layout));
        }

        int itemElements = plan.ItemElements;
        if (input.Length < layout.Count * itemElements)
        {
            throw new ArgumentException(
                $"the input tensor holds {input.Length} floats; {layout.Count} items of {plan.Channels}x{plan.Height}x{plan.Width} need {layout.Count * itemElements}",
                nameof(input));
        }

        if (plan.Resize == ResizeMode.Stretch)
        {
            Stretch(frame, plan, input[..itemElements]);
            return;
        }

        if (layout.TileWidth != plan.Width || layout.TileHeight != plan.Height)
        {
            throw new ArgumentException(
                $"the layout's {layout.TileWidth}x{layout.TileHeight} tiles do not match model {manifest.Id}'s {plan.Width}x{plan.Height} input",
                nameof(layout));
        }

        ReadOnlySpan<PixelRect> tiles = layout.Tiles;
        for (int t = 0; t < tiles.Length; t++)
        {
            CopyTile(frame, tiles[t], plan, input.Slice(t * itemElements, itemElements));
        }
    }

    private PreprocessPlan PlanFor(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return _plans.GetValue(manifest, s_createPlan);
    }

    private static void CopyTile(Frame frame, PixelRect tile, PreprocessPlan plan, Span<float> item)
    {
        int width = plan.Width;
        int height = plan.Height;
        int channels = plan.Channels;
        int bytesPerPixel = frame.Format.BytesPerPixel();
        int stride = frame.Stride;
        ReadOnlySpan<byte> pixels = frame.Pixels;
        bool planar = plan.Layout == TensorLayout.Nchw;
        int planeSize = width * height;
        int rowElements = planar ? width : width * channels;

        for (int y = 0; y < tile.Height; y++)
        {
            ReadOnlySpan<byte> source = pixels.Slice(((tile.Y + y) * stride) + (tile.X * bytesPerPixel), tile.Width * bytesPerPixel);
            if (planar)
            {
                ConvertPlanarRow(source, frame.Format, plan, item, y * width, tile.Width, planeSize);
                if (tile.Width < width)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        Span<float> row = item.Slice((c * planeSize) + (y * width), width);
                        row[tile.Width..].Fill(row[tile.Width - 1]);
                    }
                }
            }
            else
            {
                Span<float> row = item.Slice(y * rowElements, rowElements);
                ConvertInterleavedRow(source, frame.Format, plan, row[..(tile.Width * channels)]);
                ReadOnlySpan<float> last = row.Slice((tile.Width - 1) * channels, channels);
                for (int x = tile.Width; x < width; x++)
                {
                    last.CopyTo(row.Slice(x * channels, channels));
                }
            }
        }

        // Rows below a short frame repeat the last real row (already padded on the right).
        for (int y = tile.Height; y < height; y++)
        {
            if (planar)
            {
                for (int c = 0; c < channels; c++)
                {
                    int plane = c * planeSize;
                    item.Slice(plane + ((tile.Height - 1) * width), width).CopyTo(item.Slice(plane + (y * width), width));
                }
            }
            else
            {
                item.Slice((tile.Height - 1) * rowElements, rowElements).CopyTo(item.Slice(y * rowElements, rowElements));
            }
        }
    }

    private static void ConvertPlanarRow(ReadOnlySpan<byte> source, PixelFormat format, PreprocessPlan plan, Span<float> item, int rowOffset, int count, int planeSize)
    {
        ReadOnlySpan<ChannelAffine> affines = plan.Affines;
        if (plan.Channels == 1)
        {
            Span<float> gray = item.Slice(rowOffset, count);
            if (format == PixelFormat.Gray8)
            {
                PixelKernels.BytesToFloats(source, gray, affines[0]);
            }
            else
            {
                PixelKernels.BgrToGray(source, gray, affines[0]);
            }

            return;
        }

        Span<float> plane0 = item.Slice(rowOffset, count);
        Span<float> plane1 = item.Slice(planeSize + rowOffset, count);
        Span<float> plane2 = item.Slice((2 * planeSize) + rowOffset, count);
        if (format == PixelFormat.Gray8)
        {
            PixelKernels.BytesToFloats(source, plane0, affines[0]);
            PixelKernels.BytesToFloats(source, plane1, affines[1]);
            PixelKernels.BytesToFloats(source, plane2, affines[2]);
        }
        else if (plan.ColorOrder == ColorOrder.Rgb)
        {
            PixelKernels.BgrToPlanes(source, plane2, plane1, plane0, affines[2], affines[1], affines[0]);
        }
        else
        {
            PixelKernels.BgrToPlanes(source, plane0, plane1, plane2, affines[0], affines[1], affines[2]);
        }
    }

    private static void ConvertInterleavedRow(ReadOnlySpan<byte> source, PixelFormat format, PreprocessPlan plan, Span<float> row)
    {
        // Only three-channel models reach here (one channel is always planar).
        ReadOnlySpan<ChannelAffine> affines = plan.Affines;
        if (format == PixelFormat.Bgr24 && plan.ColorOrder == ColorOrder.Bgr)
        {
            PixelKernels.InterleavedToFloats(source, row, affines[0], affines[1], affines[2]);
        }
        else if (format == PixelFormat.Bgr24)
        {
            PixelKernels.BgrToInterleavedRgb(source, row, affines[0], affines[1], affines[2]);
        }
        else
        {
            PixelKernels.GrayToInterleaved(source, row, affines);
        }
    }

    private static void Stretch(Frame frame, PreprocessPlan plan, Span<float> item)
    {
        int width = plan.Width;
        int height = plan.Height;
        int channels = plan.Channels;
        int planeSize = width * height;
        bool planar = plan.Layout == TensorLayout.Nchw;
        int bytesPerPixel = frame.Format.BytesPerPixel();
        int stride = frame.Stride;
        ReadOnlySpan<byte> pixels = frame.Pixels;
        ReadOnlySpan<ChannelAffine> affines = plan.Affines;
        bool bgrFrame = frame.Format == PixelFormat.Bgr24;

        // Which interpolated source channel feeds each model channel; -1 = grey from B, G and R.
        Span<int> sourceOf = stackalloc int[3];
        Span<float> sample = stackalloc float[3];
        for (int c = 0; c < channels; c++)
        {
            sourceOf[c] = !bgrFrame ? 0 : plan.ColorOrder switch
            {
                ColorOrder.Rgb => 2 - c,
                ColorOrder.Bgr => c,
                _ => -1,
            };
        }

        int[] first = ArrayPool<int>.Shared.Rent(width);
        int[] second = ArrayPool<int>.Shared.Rent(width);
        float[] weight = ArrayPool<float>.Shared.Rent(width);
        try
        {
            Bilinear.Axis(frame.Width, first.AsSpan(0, width), second.AsSpan(0, width), weight.AsSpan(0, width));
            for (int y = 0; y < height; y++)
            {
                Bilinear.Sample(frame.Height, height, y, out int y0, out int y1, out float fy);
                ReadOnlySpan<byte> top = pixels.Slice(y0 * stride, stride);
                ReadOnlySpan<byte> bottom = pixels.Slice(y1 * stride, stride);
                for (int x = 0; x < width; x++)
                {
                    int x0 = first[x] * bytesPerPixel;
                    int x1 = second[x] * bytesPerPixel;
                    float fx = weight[x];
                    for (int s = 0; s < bytesPerPixel; s++)
                    {
                        float upper = top[x0 + s] + ((top[x1 + s] - top[x0 + s]) * fx);
                        float lower = bottom[x0 + s] + ((bottom[x1 + s] - bottom[x0 + s]) * fx);
                        sample[s] = upper + ((lower - upper) * fy);
                    }

                    int pixel = (y * width) + x;
                    for (int c = 0; c < channels; c++)
                    {
                        int from = sourceOf[c];
                        float value = from >= 0 ? sample[from] : (0.114f * sample[0]) + (0.587f * sample[1]) + (0.299f * sample[2]);
                        item[planar ? (c * planeSize) + pixel : (pixel * channels) + c] = affines[c].Apply(value);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(first);
            ArrayPool<int>.Shared.Return(second);
            ArrayPool<float>.Shared.Return(weight);
        }
    }
}
