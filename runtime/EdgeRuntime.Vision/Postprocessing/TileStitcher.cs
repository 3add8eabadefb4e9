using System.Numerics;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Vision.Postprocessing;

/// <summary>
/// Stitches per-tile class probabilities into full-frame probability planes. Where tiles overlap, each tile's
/// probability is weighted by a feather that rises linearly over <see cref="TileLayout.Overlap"/> pixels from
/// every tile edge that lies inside the frame (edges on the frame border keep full weight), and the weighted sum is
/// divided by the summed weights. A map that agrees in the overlaps therefore comes back unchanged, and where tiles
/// disagree (a CNN is less sure near a tile border) the estimate fades from one tile into the other without a seam,
/// so a defect across a border becomes one connected region. Padding beyond a tile's rectangle is never read.
/// </summary>
internal static class TileStitcher
{
    /// <summary>Floats of scratch <see cref="Stitch"/> needs.</summary>
    public static int ScratchLength(TileLayout layout, int classes) => (classes + 1) * layout.TileWidth;

    /// <summary>
    /// Writes the defect classes' probabilities (classes 1..K-1) of the whole frame into
    /// <paramref name="planes"/>: plane c-1 at <c>(c - 1) * FrameWidth * FrameHeight</c>.
    /// </summary>
    /// <remarks>
    /// <paramref name="output"/> is the model output, <c>layout.Count</c> items of [K, TileHeight, TileWidth];
    /// <paramref name="weights"/> is scratch of <c>FrameWidth * FrameHeight</c> floats (unused for a single tile);
    /// <paramref name="scratch"/> holds at least <see cref="ScratchLength"/> floats.
    /// </remarks>
    public static void Stitch(
        ReadOnlySpan<float> output,
        TileLayout layout,
        int classes,
        OutputKind kind,
        OutputActivation activation,
        Span<float> planes,
        Span<float> weights,
        Span<float> scratch)
    {
        int frameWidth = layout.FrameWidth;
        int frameHeight = layout.FrameHeight;
        int pixels = frameWidth * frameHeight;
        int tileWidth = layout.TileWidth;
        int tilePlane = tileWidth * layout.TileHeight;
        int itemElements = classes * tilePlane;
        int defectClasses = classes - 1;
        bool blend = layout.Count > 1;
        Span<float> probabilities = scratch[..(defectClasses * tileWidth)];
        Span<float> columnWeights = scratch.Slice(defectClasses * tileWidth, tileWidth);
        Span<float> rowWeights = scratch.Slice(classes * tileWidth, tileWidth);
        if (blend)
        {
            planes[..(defectClasses * pixels)].Clear();
            weights[..pixels].Clear();
        }

        float ramp = layout.Overlap + 1;
        ReadOnlySpan<PixelRect> tiles = layout.Tiles;
        for (int t = 0; t < tiles.Length; t++)
        {
            PixelRect tile = tiles[t];
            ReadOnlySpan<float> item = output.Slice(t * itemElements, itemElements);
            bool featherLeft = tile.X > 0;
            bool featherRight = tile.X + tile.Width < frameWidth;
            bool featherTop = tile.Y > 0;
            bool featherBottom = tile.Y + tile.Height < frameHeight;
            for (int x = 0; x < tile.Width; x++)
            {
                columnWeights[x] = Feather(featherLeft, x, ramp) * Feather(featherRight, tile.Width - 1 - x, ramp);
            }

            for (int y = 0; y < tile.Height; y++)
            {
                ClassActivation.Apply(kind, activation, item, classes, tilePlane, y * tileWidth, tile.Width, probabilities, tileWidth);
                int frameRow = ((tile.Y + y) * frameWidth) + tile.X;
                if (!blend)
                {
                    for (int c = 0; c < defectClasses; c++)
                    {
                        probabilities.Slice(c * tileWidth, tile.Width).CopyTo(planes.Slice((c * pixels) + frameRow, tile.Width));
                    }

                    continue;
                }

                float rowWeight = Feather(featherTop, y, ramp) * Feather(featherBottom, tile.Height - 1 - y, ramp);
                Span<float> w = rowWeights[..tile.Width];
                Scale(columnWeights[..tile.Width], rowWeight, w);
                Add(w, weights.Slice(frameRow, tile.Width));
                for (int c = 0; c < defectClasses; c++)
                {
                    AddProduct(w, probabilities.Slice(c * tileWidth, tile.Width), planes.Slice((c * pixels) + frameRow, tile.Width));
                }
            }
        }

        if (blend)
        {
            Normalise(planes, weights[..pixels], defectClasses);
        }
    }

    private static float Feather(bool feathered, int distance, float ramp) =>
        feathered ? MathF.Min(1f, (distance + 1) / ramp) : 1f;

    private static void Scale(ReadOnlySpan<float> source, float factor, Span<float> destination)
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = source[i] * factor;
        }
    }

    /// <summary><c>accumulator += w</c>.</summary>
    private static void Add(ReadOnlySpan<float> w, Span<float> accumulator)
    {
        int i = 0;
        int width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= w.Length - width; i += width)
            {
                (new Vector<float>(accumulator.Slice(i, width)) + new Vector<float>(w.Slice(i, width))).CopyTo(accumulator.Slice(i, width));
            }
        }

        for (; i < w.Length; i++)
        {
            accumulator[i] += w[i];
        }
    }

    /// <summary><c>accumulator += w * values</c>.</summary>
    private static void AddProduct(ReadOnlySpan<float> w, ReadOnlySpan<float> values, Span<float> accumulator)
    {
        int i = 0;
        int width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= w.Length - width; i += width)
            {
                Vector<float> sum = Vector.MultiplyAddEstimate(
                    new Vector<float>(w.Slice(i, width)), new Vector<float>(values.Slice(i, width)), new Vector<float>(accumulator.Slice(i, width)));
                sum.CopyTo(accumulator.Slice(i, width));
            }
        }

        for (; i < w.Length; i++)
        {
            accumulator[i] += w[i] * values[i];
        }
    }

    private static void Normalise(Span<float> planes, Span<float> weights, int defectClasses)
    {
        int pixels = weights.Length;

        // Every frame pixel is covered by at least one tile with a weight >= 1 / (overlap + 1)^2, so no division by zero.
        int width = Vector<float>.Count;
        int first = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; first <= pixels - width; first += width)
            {
                (Vector<float>.One / new Vector<float>(weights.Slice(first, width))).CopyTo(weights.Slice(first, width));
            }
        }

        for (; first < pixels; first++)
        {
            weights[first] = 1f / weights[first];
        }

        for (int c = 0; c < defectClasses; c++)
        {
            Span<float> plane = planes.Slice(c * pixels, pixels);
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; i <= pixels - width; i += width)
                {
                    (new Vector<float>(plane.Slice(i, width)) * new Vector<float>(weights.Slice(i, width))).CopyTo(plane.Slice(i, width));
                }
            }

            for (; i < pixels; i++)
            {
                plane[i] *= weights[i];
            }
        }
    }
}
