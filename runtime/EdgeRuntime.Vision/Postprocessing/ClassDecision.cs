using System.Numerics;
using System.Runtime.CompilerServices;
using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Vision.Postprocessing;

/// <summary>
/// The per-pixel class decision: a pixel belongs to the defect class with the highest probability among the
/// defect classes whose probability reaches their threshold, and to class 0 (good) when none does. Pixels
/// outside the region of interest or not kept by the ignore mask are good. Vectorised over pixels.
/// </summary>
internal static class ClassDecision
{
    /// <param name="probabilities">Defect-class planes: class c at <c>(c - 1) * width * height</c>.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="thresholds">Per class index; index 0 (background) is ignored.</param>
    /// <param name="region">The region of interest, inside the frame.</param>
    /// <param name="keep">Empty, or one byte per pixel: 0xFF where the pixel is judged, 0 where it is ignored.</param>
    /// <param name="classMap">Receives one class index per pixel.</param>
    public static void Decide(
        ReadOnlySpan<float> probabilities,
        int width,
        int height,
        ReadOnlySpan<float> thresholds,
        PixelRect region,
        ReadOnlySpan<byte> keep,
        Span<byte> classMap)
    {
        int pixels = width * height;
        classMap[..pixels].Clear();
        for (int y = region.Y; y < region.Y + region.Height; y++)
        {
            int start = (y * width) + region.X;
            Span<byte> run = classMap.Slice(start, region.Width);
            DecideRun(probabilities, pixels, thresholds, start, run);
            if (!keep.IsEmpty)
            {
                And(run, keep.Slice(start, region.Width));
            }
        }
    }

    private static void DecideRun(ReadOnlySpan<float> probabilities, int pixels, ReadOnlySpan<float> thresholds, int start, Span<byte> destination)
    {
        int count = destination.Length;
        int width = Vector<float>.Count;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Four int vectors narrow into one byte vector: 4 * Vector<float>.Count pixels per step.
            for (; i <= count - (4 * width); i += 4 * width)
            {
                int at = start + i;
                Vector<short> low = Vector.Narrow(Best(probabilities, pixels, thresholds, at), Best(probabilities, pixels, thresholds, at + width));
                Vector<short> high = Vector.Narrow(Best(probabilities, pixels, thresholds, at + (2 * width)), Best(probabilities, pixels, thresholds, at + (3 * width)));
                Vector.AsVectorByte(Vector.Narrow(low, high)).CopyTo(destination.Slice(i, 4 * width));
            }
        }

        int defectClasses = thresholds.Length - 1;
        for (; i < count; i++)
        {
            int best = 0;
            float bestProbability = 0f;
            for (int c = 1; c <= defectClasses; c++)
            {
                float p = probabilities[((c - 1) * pixels) + start + i];
                if (p >= thresholds[c] && p > bestProbability)
                {
                    best = c;
                    bestProbability = p;
                }
            }

            destination[i] = (byte)best;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<int> Best(ReadOnlySpan<float> probabilities, int pixels, ReadOnlySpan<float> thresholds, int at)
    {
        int width = Vector<float>.Count;
        Vector<int> best = Vector<int>.Zero;
        Vector<float> bestProbability = Vector<float>.Zero;
        for (int c = 1; c < thresholds.Length; c++)
        {
            var p = new Vector<float>(probabilities.Slice(((c - 1) * pixels) + at, width));
            Vector<int> wins = Vector.GreaterThanOrEqual(p, new Vector<float>(thresholds[c])) & Vector.GreaterThan(p, bestProbability);
            best = Vector.ConditionalSelect(wins, new Vector<int>(c), best);
            bestProbability = Vector.ConditionalSelect(wins, p, bestProbability);
        }

        return best;
    }

    private static void And(Span<byte> values, ReadOnlySpan<byte> mask)
    {
        int i = 0;
        int width = Vector<byte>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= values.Length - width; i += width)
            {
                (new Vector<byte>(values.Slice(i, width)) & new Vector<byte>(mask.Slice(i, width))).CopyTo(values.Slice(i, width));
            }
        }

        for (; i < values.Length; i++)
        {
            values[i] &= mask[i];
        }
    }
}
