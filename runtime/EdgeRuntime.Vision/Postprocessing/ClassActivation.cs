using System.Numerics;
using System.Runtime.InteropServices;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Vision.Postprocessing;

/// <summary>
/// Turns a run of pixels of one output item ([K, H, W] planes) into the probabilities of the defect classes
/// 1..K-1. Softmax normalises over all K classes (background included); sigmoid scores each class alone; an
/// output that already holds probabilities is copied. Vectorised over pixels, so the planar layout costs nothing.
/// </summary>
internal static class ClassActivation
{
    /// <summary>
    /// Reads pixels <c>[offset, offset + count)</c> of every class plane of <paramref name="item"/> and writes
    /// class c's probabilities to <c>destination[(c - 1) * destinationStride ..]</c>.
    /// </summary>
    public static void Apply(
        OutputKind kind,
        OutputActivation activation,
        ReadOnlySpan<float> item,
        int classes,
        int planeSize,
        int offset,
        int count,
        Span<float> destination,
        int destinationStride)
    {
        if (kind == OutputKind.Probabilities)
        {
            for (int c = 1; c < classes; c++)
            {
                item.Slice((c * planeSize) + offset, count).CopyTo(destination.Slice((c - 1) * destinationStride, count));
            }
        }
        else if (activation == OutputActivation.Sigmoid)
        {
            for (int c = 1; c < classes; c++)
            {
                Sigmoid(item.Slice((c * planeSize) + offset, count), destination.Slice((c - 1) * destinationStride, count));
            }
        }
        else
        {
            Softmax(item, classes, planeSize, offset, count, destination, destinationStride);
        }
    }

    private static void Sigmoid(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> source = MemoryMarshal.Cast<float, Vector<float>>(logits);
            Span<Vector<float>> target = MemoryMarshal.Cast<float, Vector<float>>(probabilities);
            for (int v = 0; v < source.Length; v++)
            {
                target[v] = Vector<float>.One / (Vector<float>.One + Vector.Exp(-source[v]));
            }

            i = source.Length * Vector<float>.Count;
        }

        for (; i < logits.Length; i++)
        {
            probabilities[i] = 1f / (1f + MathF.Exp(-logits[i]));
        }
    }

    private static void Softmax(ReadOnlySpan<float> item, int classes, int planeSize, int offset, int count, Span<float> destination, int destinationStride)
    {
        int width = Vector<float>.Count;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= count - width; i += width)
            {
                int at = offset + i;
                var max = new Vector<float>(item.Slice(at, width));
                for (int c = 1; c < classes; c++)
                {
                    max = Vector.Max(max, new Vector<float>(item.Slice((c * planeSize) + at, width)));
                }

                // Subtracting the maximum keeps exp in range for any logits without changing the result.
                Vector<float> sum = Vector.Exp(new Vector<float>(item.Slice(at, width)) - max);
                for (int c = 1; c < classes; c++)
                {
                    Vector<float> e = Vector.Exp(new Vector<float>(item.Slice((c * planeSize) + at, width)) - max);
                    sum += e;
                    e.CopyTo(destination.Slice(((c - 1) * destinationStride) + i, width));
                }

                Vector<float> inverse = Vector<float>.One / sum;
                for (int c = 1; c < classes; c++)
                {
                    Span<float> target = destination.Slice(((c - 1) * destinationStride) + i, width);
                    (new Vector<float>(target) * inverse).CopyTo(target);
                }
            }
        }

        for (; i < count; i++)
        {
            int at = offset + i;
            float max = item[at];
            for (int c = 1; c < classes; c++)
            {
                max = MathF.Max(max, item[(c * planeSize) + at]);
            }

            float sum = MathF.Exp(item[at] - max);
            for (int c = 1; c < classes; c++)
            {
                float e = MathF.Exp(item[(c * planeSize) + at] - max);
                sum += e;
                destination[((c - 1) * destinationStride) + i] = e;
            }

            float inverse = 1f / sum;
            for (int c = 1; c < classes; c++)
            {
                destination[((c - 1) * destinationStride) + i] *= inverse;
            }
        }
    }
}
