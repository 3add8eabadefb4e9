using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Vision.Preprocessing;

/// <summary>One channel's normalisation folded into <c>value = pixel * Scale + Offset</c>.</summary>
internal readonly record struct ChannelAffine(float Scale, float Offset)
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Apply(float pixel) => (pixel * Scale) + Offset;
}

/// <summary>
/// Row kernels that turn 8-bit pixels into normalised floats. The vector paths load 16 pixels at a time,
/// de-interleave BGR with byte shuffles (SSSE3 <c>pshufb</c> / ARM64 <c>tbl</c>), widen to 32-bit and apply one
/// multiply-add per value; they run at close to memory bandwidth. Tails and other CPUs take the scalar path,
/// which computes the same values (up to the last bit of a fused multiply-add).
/// </summary>
internal static class PixelKernels
{
    private const int Block = 16;

    // Fixed-point BGR -> grey weights of OpenCV's cvtColor (14 fractional bits), so a model trained on
    // cv2.cvtColor(..., COLOR_BGR2GRAY) images sees bit-identical grey levels.
    private const int GrayBlue = 1868;
    private const int GrayGreen = 9617;
    private const int GrayRed = 4899;
    private const int GrayShift = 14;

    /// <summary>Whether the de-interleaving vector path runs on this CPU.</summary>
    public static bool IsVectorized => Vector128.IsHardwareAccelerated && (Ssse3.IsSupported || AdvSimd.Arm64.IsSupported);

    /// <summary>
    /// Splits a BGR row into three float rows: the blue values go to <paramref name="blue"/> normalised with
    /// <paramref name="blueAffine"/>, and so on. The destinations are rows of whichever planes the model wants
    /// each colour in, so the same kernel serves RGB and BGR models.
    /// </summary>
    public static void BgrToPlanes(
        ReadOnlySpan<byte> bgr,
        Span<float> blue,
        Span<float> green,
        Span<float> red,
        ChannelAffine blueAffine,
        ChannelAffine greenAffine,
        ChannelAffine redAffine)
    {
        int count = blue.Length;
        if (bgr.Length < count * 3 || green.Length < count || red.Length < count)
        {
            throw new ArgumentException("source or destination rows are shorter than the pixel count");
        }

        int i = 0;
        if (IsVectorized && count >= Block)
        {
            ref byte source = ref MemoryMarshal.GetReference(bgr);
            ref float b = ref MemoryMarshal.GetReference(blue);
            ref float g = ref MemoryMarshal.GetReference(green);
            ref float r = ref MemoryMarshal.GetReference(red);
            Vector128<float> blueScale = Vector128.Create(blueAffine.Scale);
            Vector128<float> blueOffset = Vector128.Create(blueAffine.Offset);
            Vector128<float> greenScale = Vector128.Create(greenAffine.Scale);
            Vector128<float> greenOffset = Vector128.Create(greenAffine.Offset);
            Vector128<float> redScale = Vector128.Create(redAffine.Scale);
            Vector128<float> redOffset = Vector128.Create(redAffine.Offset);

            // Lane j of a channel takes byte 3j + channel of the 48 loaded bytes; 0xFF lanes read as zero, so
            // OR-ing the three shuffles gathers the channel.
            Vector128<byte> b0 = Vector128.Create(0, 3, 6, 9, 12, 15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF);
            Vector128<byte> b1 = Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 2, 5, 8, 11, 14, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF);
            Vector128<byte> b2 = Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 4, 7, 10, (byte)13);
            Vector128<byte> g0 = Vector128.Create(1, 4, 7, 10, 13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF);
            Vector128<byte> g1 = Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 3, 6, 9, 12, 15, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF);
            Vector128<byte> g2 = Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 2, 5, 8, 11, (byte)14);
            Vector128<byte> r0 = Vector128.Create(2, 5, 8, 11, 14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF);
            Vector128<byte> r1 = Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 4, 7, 10, 13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF);
            Vector128<byte> r2 = Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 3, 6, 9, 12, (byte)15);

            for (; i <= count - Block; i += Block)
            {
                nuint at = (nuint)(i * 3);
                Vector128<byte> v0 = Vector128.LoadUnsafe(ref source, at);
                Vector128<byte> v1 = Vector128.LoadUnsafe(ref source, at + 16);
                Vector128<byte> v2 = Vector128.LoadUnsafe(ref source, at + 32);
                Vector128<byte> blues = Shuffle(v0, b0) | Shuffle(v1, b1) | Shuffle(v2, b2);
                Vector128<byte> greens = Shuffle(v0, g0) | Shuffle(v1, g1) | Shuffle(v2, g2);
                Vector128<byte> reds = Shuffle(v0, r0) | Shuffle(v1, r1) | Shuffle(v2, r2);
                Store16(blues, blueScale, blueOffset, ref b, (nuint)i);
                Store16(greens, greenScale, greenOffset, ref g, (nuint)i);
                Store16(reds, redScale, redOffset, ref r, (nuint)i);
            }
        }

        for (; i < count; i++)
        {
            int s = i * 3;
            blue[i] = blueAffine.Apply(bgr[s]);
            green[i] = greenAffine.Apply(bgr[s + 1]);
            red[i] = redAffine.Apply(bgr[s + 2]);
        }
    }

    /// <summary>Normalises a row of one-byte samples (a grey row, or an interleaved row whose channels share <paramref name="affine"/>).</summary>
    public static void BytesToFloats(ReadOnlySpan<byte> source, Span<float> destination, ChannelAffine affine)
    {
        int count = destination.Length;
        if (source.Length < count)
        {
            throw new ArgumentException("the source row is shorter than the destination");
        }

        int i = 0;
        if (Vector128.IsHardwareAccelerated && count >= Block)
        {
            ref byte s = ref MemoryMarshal.GetReference(source);
            ref float d = ref MemoryMarshal.GetReference(destination);
            Vector128<float> scale = Vector128.Create(affine.Scale);
            Vector128<float> offset = Vector128.Create(affine.Offset);
            for (; i <= count - Block; i += Block)
            {
                Store16(Vector128.LoadUnsafe(ref s, (nuint)i), scale, offset, ref d, (nuint)i);
            }
        }

        for (; i < count; i++)
        {
            destination[i] = affine.Apply(source[i]);
        }
    }

    /// <summary>
    /// Normalises an interleaved three-channel row in place order (NHWC, channel order unchanged): byte k gets
    /// the affine of channel <c>k % 3</c>.
    /// </summary>
    public static void InterleavedToFloats(ReadOnlySpan<byte> source, Span<float> destination, ChannelAffine first, ChannelAffine second, ChannelAffine third)
    {
        int count = destination.Length;
        if (source.Length < count)
        {
            throw new ArgumentException("the source row is shorter than the destination");
        }

        int i = 0;
        if (Vector128.IsHardwareAccelerated && count >= 3 * Block)
        {
            ref byte s = ref MemoryMarshal.GetReference(source);
            ref float d = ref MemoryMarshal.GetReference(destination);

            // 48 bytes = 12 float vectors; the channel pattern repeats every 3 vectors (12 values).
            Vector128<float> scaleA = Vector128.Create(first.Scale, second.Scale, third.Scale, first.Scale);
            Vector128<float> scaleB = Vector128.Create(second.Scale, third.Scale, first.Scale, second.Scale);
            Vector128<float> scaleC = Vector128.Create(third.Scale, first.Scale, second.Scale, third.Scale);
            Vector128<float> offsetA = Vector128.Create(first.Offset, second.Offset, third.Offset, first.Offset);
            Vector128<float> offsetB = Vector128.Create(second.Offset, third.Offset, first.Offset, second.Offset);
            Vector128<float> offsetC = Vector128.Create(third.Offset, first.Offset, second.Offset, third.Offset);
            for (; i <= count - (3 * Block); i += 3 * Block)
            {
                nuint at = (nuint)i;
                Store16(Vector128.LoadUnsafe(ref s, at), scaleA, offsetA, scaleB, offsetB, scaleC, offsetC, scaleA, offsetA, ref d, at);
                Store16(Vector128.LoadUnsafe(ref s, at + 16), scaleB, offsetB, scaleC, offsetC, scaleA, offsetA, scaleB, offsetB, ref d, at + 16);
                Store16(Vector128.LoadUnsafe(ref s, at + 32), scaleC, offsetC, scaleA, offsetA, scaleB, offsetB, scaleC, offsetC, ref d, at + 32);
            }
        }

        for (; i < count; i++)
        {
            ChannelAffine affine = (i % 3) switch
            {
                0 => first,
                1 => second,
                _ => third,
            };
            destination[i] = affine.Apply(source[i]);
        }
    }

    /// <summary>
    /// NHWC rows whose channel order differs from the frame's: each pixel's three values are taken from
    /// <paramref name="sourceChannels"/> (indices into the source pixel; all 0 for a grey source).
    /// Scalar: NHWC with a channel swap is rare for the models this runtime serves.
    /// </summary>
    public static void ToInterleaved(
        ReadOnlySpan<byte> source,
        int sourceBytesPerPixel,
        Span<float> destination,
        ReadOnlySpan<int> sourceChannels,
        ReadOnlySpan<ChannelAffine> affines)
    {
        int channels = affines.Length;
        int pixels = destination.Length / channels;
        for (int p = 0; p < pixels; p++)
        {
            int s = p * sourceBytesPerPixel;
            int d = p * channels;
            for (int c = 0; c < channels; c++)
            {
                destination[d + c] = affines[c].Apply(source[s + sourceChannels[c]]);
            }
        }
    }

    /// <summary>Converts a BGR row to grey exactly as OpenCV's <c>cvtColor(BGR2GRAY)</c> does, then normalises it.</summary>
    public static void BgrToGray(ReadOnlySpan<byte> bgr, Span<float> destination, ChannelAffine affine)
    {
        int count = destination.Length;
        for (int i = 0; i < count; i++)
        {
            int s = i * 3;
            destination[i] = affine.Apply(GrayOf(bgr[s], bgr[s + 1], bgr[s + 2]));
        }
    }

    /// <summary>OpenCV's fixed-point BGR to grey conversion.</summary>
    public static int GrayOf(int blue, int green, int red) =>
        ((blue * GrayBlue) + (green * GrayGreen) + (red * GrayRed) + (1 << (GrayShift - 1))) >> GrayShift;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Shuffle(Vector128<byte> value, Vector128<byte> indices)
    {
        if (Ssse3.IsSupported)
        {
            return Ssse3.Shuffle(value, indices);
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.VectorTableLookup(value, indices);
        }

        return Vector128.Shuffle(value, indices);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(Vector128<byte> bytes, Vector128<float> scale, Vector128<float> offset, ref float destination, nuint at) =>
        Store16(bytes, scale, offset, scale, offset, scale, offset, scale, offset, ref destination, at);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(
        Vector128<byte> bytes,
        Vector128<float> scale0,
        Vector128<float> offset0,
        Vector128<float> scale1,
        Vector128<float> offset1,
        Vector128<float> scale2,
        Vector128<float> offset2,
        Vector128<float> scale3,
        Vector128<float> offset3,
        ref float destination,
        nuint at)
    {
        Vector128<ushort> low = Vector128.WidenLower(bytes);
        Vector128<ushort> high = Vector128.WidenUpper(bytes);

        // Values are at most 255, so the unsigned lanes reinterpret as signed for the cheap int -> float conversion.
        Vector128<float> f0 = Vector128.ConvertToSingle(Vector128.WidenLower(low).AsInt32());
        Vector128<float> f1 = Vector128.ConvertToSingle(Vector128.WidenUpper(low).AsInt32());
        Vector128<float> f2 = Vector128.ConvertToSingle(Vector128.WidenLower(high).AsInt32());
        Vector128<float> f3 = Vector128.ConvertToSingle(Vector128.WidenUpper(high).AsInt32());
        Vector128.MultiplyAddEstimate(f0, scale0, offset0).StoreUnsafe(ref destination, at);
        Vector128.MultiplyAddEstimate(f1, scale1, offset1).StoreUnsafe(ref destination, at + 4);
        Vector128.MultiplyAddEstimate(f2, scale2, offset2).StoreUnsafe(ref destination, at + 8);
        Vector128.MultiplyAddEstimate(f3, scale3, offset3).StoreUnsafe(ref destination, at + 12);
    }
}
