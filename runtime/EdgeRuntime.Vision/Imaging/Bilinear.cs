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
    /// Resizes one float plane. <paramref name="columnFirst"/>, <paramref name="columnSecond"/> and
    /// <paramref name="columnWeight"/> are caller-provided scratch of <paramref name="destinationWidth"/> entries.
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
        Span<float> columnWeight)
    {
        columnFirst = columnFirst[..destinationWidth];
        columnSecond = columnSecond[..destinationWidth];
        columnWeight = columnWeight[..destinationWidth];
        Axis(sourceWidth, columnFirst, columnSecond, columnWeight);
        for (int y = 0; y < destinationHeight; y++)
        {
            Sample(sourceHeight, destinationHeight, y, out int y0, out int y1, out float fy);
            ReadOnlySpan<float> top = source.Slice(y0 * sourceWidth, sourceWidth);
            ReadOnlySpan<float> bottom = source.Slice(y1 * sourceWidth, sourceWidth);
            Span<float> row = destination.Slice(y * destinationWidth, destinationWidth);
            for (int x = 0; x < row.Length; x++)
            {
                int x0 = columnFirst[x];
                int x1 = columnSecond[x];
                float fx = columnWeight[x];
                float upper = top[x0] + ((top[x1] - top[x0]) * fx);
                float lower = bottom[x0] + ((bottom[x1] - bottom[x0]) * fx);
                row[x] = upper + ((lower - upper) * fy);
            }
        }
    }
}
