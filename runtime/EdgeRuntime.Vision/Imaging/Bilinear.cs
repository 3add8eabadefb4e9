using System.Numerics;

namespace EdgeRuntime.Vision.Imaging;

/// <summary>
/// Bilinear sampling with pixel centres aligned (OpenCV's <c>INTER_LINEAR</c> geometry), shared by the
/// stretch preprocessing (frame to model input) and the stretch postprocessing (probabilities back to the frame).
/// Interpolation is in floating point, so it differs from OpenCV's 11-bit fixed-point 8-bit resize by less
/// than half a grey level.
/// </summary>
internal static class Bilinear
{
    /// <summary>
    /// Where destination index <paramref name="destination"/> samples a source axis: the two source indices
    /// and the weight of the second.
    /// </summary>
    public static void Sample(int sourceLength, int destinationLength, int destination, out int first, out int second, out float weight)
    {
        double position = ((destination + 0.5) * sourceLength / destinationLength) - 0.5;
        if (position <= 0)
        {
            first = 0;
            second = 0;
            weight = 0;
            return;
        }

        int index = (int)position;
        if (index >= sourceLength - 1)
        {
            first = sourceLength - 1;
            second = sourceLength - 1;
            weight = 0;
            return;
        }

        first = index;
        second = index + 1;
        weight = (float)(position - index);
    }

    /// <summary>Fills the sampling table of a whole axis (one entry per destination index).</summary>
    public static void Axis(int sourceLength, Span<int> first, Span<int> second, Span<float> weight)
    {
        int destinationLength = first.Length;
        for (int i = 0; i < destinationLength; i++)
        {
            Sample(sourceLength, destinationLength, i, out first[i], out second[i], out weight[i]);
        }
    }

    /// <summary>
    /// Resizes one float plane. Separable: each source row is interpolated horizontally once (kept while consecutive
    /// destination rows use it), then destination rows are vertical blends of two such rows, vectorised.
    /// <paramref name="columnFirst"/>, <paramref name="columnSecond"/> and <paramref name="columnWeight"/> are scratch
    /// of <paramref name="destinationWidth"/> entries, <paramref name="rows"/> of twice that.
    /// </summary>
    public static void ResizePlane(
        ReadOnlySpan<float> source,
        int sourceWidth,
        int sourceHeight,
        Span<float> destination,
        int destinationWidth,
        int destinationHeight,
        Span<int> columnFirst,
        Span<int> columnSecond,
        Span<float> columnWeight,
        Span<float> rows)
    {
        columnFirst = columnFirst[..destinationWidth];
        columnSecond = columnSecond[..destinationWidth];
        columnWeight = columnWeight[..destinationWidth];
        Axis(sourceWidth, columnFirst, columnSecond, columnWeight);
        Span<float> upper = rows[..destinationWidth];
        Span<float> lower = rows.Slice(destinationWidth, destinationWidth);
        int upperRow = -1;
        int lowerRow = -1;
        for (int y = 0; y < destinationHeight; y++)
        {
            Sample(sourceHeight, destinationHeight, y, out int y0, out int y1, out float fy);
            if (y0 != upperRow)
            {
                if (y0 == lowerRow)
                {
                    // Moving down one source row: the old lower row becomes the upper one.
                    Span<float> swap = upper;
                    upper = lower;
                    lower = swap;
                    lowerRow = -1;
                }
                else
                {
                    Horizontal(source.Slice(y0 * sourceWidth, sourceWidth), columnFirst, columnSecond, columnWeight, upper);
                }

                upperRow = y0;
            }

            if (y1 != lowerRow)
            {
                Horizontal(source.Slice(y1 * sourceWidth, sourceWidth), columnFirst, columnSecond, columnWeight, lower);
                lowerRow = y1;
            }

            Blend(upper, lower, fy, destination.Slice(y * destinationWidth, destinationWidth));
        }
    }

    private static void Horizontal(ReadOnlySpan<float> row, ReadOnlySpan<int> first, ReadOnlySpan<int> second, ReadOnlySpan<float> weight, Span<float> destination)
    {
        for (int x = 0; x < destination.Length; x++)
        {
            float left = row[first[x]];
            destination[x] = left + ((row[second[x]] - left) * weight[x]);
        }
    }

    private static void Blend(ReadOnlySpan<float> upper, ReadOnlySpan<float> lower, float weight, Span<float> destination)
    {
        int x = 0;
        int width = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var w = new Vector<float>(weight);
            for (; x <= destination.Length - width; x += width)
            {
                var top = new Vector<float>(upper.Slice(x, width));
                (top + ((new Vector<float>(lower.Slice(x, width)) - top) * w)).CopyTo(destination.Slice(x, width));
            }
        }

        for (; x < destination.Length; x++)
        {
            destination[x] = upper[x] + ((lower[x] - upper[x]) * weight);
        }
    }
}
