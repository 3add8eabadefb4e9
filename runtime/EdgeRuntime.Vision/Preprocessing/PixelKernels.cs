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

    // Fixed-point BGR -> grey weights of OpenCV 4's 8-bit cvtColor (15 fractional bits), so a model trained on
    // cv2.cvtColor(..., COLOR_BGR2GRAY) images sees bit-identical grey levels.
    private const int GrayBlue = 3735;
    private const int GrayGreen = 19235;
    private const int GrayRed = 9798;
    private const int GrayShift = 15;

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

            for (; i <= count - Block; i += Block)
            {
                Deinterleave(ref source, (nuint)(i * 3), out Vector128<byte> blues, out Vector128<byte> greens, out Vector128<byte> reds);
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

            var pattern = new PeriodicAffine(first, second, third);
            for (; i <= count - (3 * Block); i += 3 * Block)
            {
                nuint at = (nuint)i;
                StorePeriodic48(Vector128.LoadUnsafe(ref s, at), Vector128.LoadUnsafe(ref s, at + 16), Vector128.LoadUnsafe(ref s, at + 32), pattern, ref d, at);
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
    /// A grey row into interleaved three-channel floats (a colour NHWC model fed by a grey camera): every channel
    /// gets the grey value under its own affine. Scalar: a rare combination.
    /// </summary>
    public static void GrayToInterleaved(ReadOnlySpan<byte> gray, Span<float> destination, ReadOnlySpan<ChannelAffine> affines)
    {
        int pixels = destination.Length / 3;
        for (int p = 0; p < pixels; p++)
        {
            byte value = gray[p];
            destination[3 * p] = affines[0].Apply(value);
            destination[(3 * p) + 1] = affines[1].Apply(value);
            destination[(3 * p) + 2] = affines[2].Apply(value);
        }
    }

    /// <summary>Converts a BGR row to grey exactly as OpenCV's <c>cvtColor(BGR2GRAY)</c> does, then normalises it.</summary>
    public static void BgrToGray(ReadOnlySpan<byte> bgr, Span<float> destination, ChannelAffine affine)
    {
        int count = destination.Length;
        if (bgr.Length < count * 3)
        {
            throw new ArgumentException("the source row is shorter than the pixel count");
        }

        int i = 0;
        if (IsVectorized && count >= Block)
        {
            ref byte source = ref MemoryMarshal.GetReference(bgr);
            ref float d = ref MemoryMarshal.GetReference(destination);
            Vector128<float> scale = Vector128.Create(affine.Scale);
            Vector128<float> offset = Vector128.Create(affine.Offset);
            for (; i <= count - Block; i += Block)
            {
                Deinterleave(ref source, (nuint)(i * 3), out Vector128<byte> blues, out Vector128<byte> greens, out Vector128<byte> reds);
                Widen(blues, out Vector128<int> b0, out Vector128<int> b1, out Vector128<int> b2, out Vector128<int> b3);
                Widen(greens, out Vector128<int> g0, out Vector128<int> g1, out Vector128<int> g2, out Vector128<int> g3);
                Widen(reds, out Vector128<int> r0, out Vector128<int> r1, out Vector128<int> r2, out Vector128<int> r3);
                nuint at = (nuint)i;
                Vector128.MultiplyAddEstimate(Gray(b0, g0, r0), scale, offset).StoreUnsafe(ref d, at);
                Vector128.MultiplyAddEstimate(Gray(b1, g1, r1), scale, offset).StoreUnsafe(ref d, at + 4);
                Vector128.MultiplyAddEstimate(Gray(b2, g2, r2), scale, offset).StoreUnsafe(ref d, at + 8);
                Vector128.MultiplyAddEstimate(Gray(b3, g3, r3), scale, offset).StoreUnsafe(ref d, at + 12);
            }
        }

        for (; i < count; i++)
        {
            int s = i * 3;
            destination[i] = affine.Apply(GrayOf(bgr[s], bgr[s + 1], bgr[s + 2]));
        }
    }

    /// <summary>
    /// Normalises a BGR row into interleaved RGB floats (NHWC for an RGB model): red, green and blue are swapped
    /// with byte shuffles, then each value gets the affine of its position's channel.
    /// </summary>
    public static void BgrToInterleavedRgb(ReadOnlySpan<byte> bgr, Span<float> destination, ChannelAffine red, ChannelAffine green, ChannelAffine blue)
    {
        int count = destination.Length;
        if (bgr.Length < count)
        {
            throw new ArgumentException("the source row is shorter than the destination");
        }

        int i = 0;
        if (IsVectorized && count >= 3 * Block)
        {
            ref byte s = ref MemoryMarshal.GetReference(bgr);
            ref float d = ref MemoryMarshal.GetReference(destination);
            var pattern = new PeriodicAffine(red, green, blue);

            // Output byte j takes input byte 3(j / 3) + 2 - j % 3; a 16-byte output draws on its own and a neighbouring input vector.
            Vector128<byte> m00 = Vector128.Create(2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9, 14, 13, 12, (byte)0xFF);
            Vector128<byte> m01 = Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)1);
            Vector128<byte> m10 = Vector128.Create(0xFF, 15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF);
            Vector128<byte> m11 = Vector128.Create(0, 0xFF, 4, 3, 2, 7, 6, 5, 10, 9, 8, 13, 12, 11, 0xFF, (byte)15);
            Vector128<byte> m12 = Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, (byte)0xFF);
            Vector128<byte> m21 = Vector128.Create(14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF);
            Vector128<byte> m22 = Vector128.Create(0xFF, 3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10, 15, 14, (byte)13);
            for (; i <= count - (3 * Block); i += 3 * Block)
            {
                nuint at = (nuint)i;
                Vector128<byte> v0 = Vector128.LoadUnsafe(ref s, at);
                Vector128<byte> v1 = Vector128.LoadUnsafe(ref s, at + 16);
                Vector128<byte> v2 = Vector128.LoadUnsafe(ref s, at + 32);
                StorePeriodic48(
                    Shuffle(v0, m00) | Shuffle(v1, m01),
                    Shuffle(v0, m10) | Shuffle(v1, m11) | Shuffle(v2, m12),
                    Shuffle(v1, m21) | Shuffle(v2, m22),
                    pattern,
                    ref d,
                    at);
            }
        }

        for (; i < count; i++)
        {
            int pixel = i - (i % 3);
            (ChannelAffine affine, int from) = (i % 3) switch
            {
                0 => (red, pixel + 2),
                1 => (green, pixel + 1),
                _ => (blue, pixel),
            };
            destination[i] = affine.Apply(bgr[from]);
        }
    }

    /// <summary>OpenCV's fixed-point BGR to grey conversion.</summary>
    public static int GrayOf(int blue, int green, int red) =>
        ((blue * GrayBlue) + (green * GrayGreen) + (red * GrayRed) + (1 << (GrayShift - 1))) >> GrayShift;

    /// <summary>Gathers the blue, green and red bytes of 16 BGR pixels starting at byte <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deinterleave(ref byte source, nuint at, out Vector128<byte> blues, out Vector128<byte> greens, out Vector128<byte> reds)
    {
        Vector128<byte> v0 = Vector128.LoadUnsafe(ref source, at);
        Vector128<byte> v1 = Vector128.LoadUnsafe(ref source, at + 16);
        Vector128<byte> v2 = Vector128.LoadUnsafe(ref source, at + 32);

        // Lane j of a channel takes byte 3j + channel of the 48 bytes; 0xFF lanes read as zero, so OR-ing the three
        // shuffles gathers the channel.
        blues = Shuffle(v0, Vector128.Create(0, 3, 6, 9, 12, 15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF))
            | Shuffle(v1, Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 2, 5, 8, 11, 14, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF))
            | Shuffle(v2, Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 4, 7, 10, (byte)13));
        greens = Shuffle(v0, Vector128.Create(1, 4, 7, 10, 13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF))
            | Shuffle(v1, Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 3, 6, 9, 12, 15, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF))
            | Shuffle(v2, Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 2, 5, 8, 11, (byte)14));
        reds = Shuffle(v0, Vector128.Create(2, 5, 8, 11, 14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF))
            | Shuffle(v1, Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 4, 7, 10, 13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)0xFF))
            | Shuffle(v2, Vector128.Create(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 3, 6, 9, 12, (byte)15));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen(Vector128<byte> bytes, out Vector128<int> i0, out Vector128<int> i1, out Vector128<int> i2, out Vector128<int> i3)
    {
        Vector128<ushort> low = Vector128.WidenLower(bytes);
        Vector128<ushort> high = Vector128.WidenUpper(bytes);

        // Values are at most 255, so the unsigned lanes reinterpret as signed.
        i0 = Vector128.WidenLower(low).AsInt32();
        i1 = Vector128.WidenUpper(low).AsInt32();
        i2 = Vector128.WidenLower(high).AsInt32();
        i3 = Vector128.WidenUpper(high).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Gray(Vector128<int> blue, Vector128<int> green, Vector128<int> red)
    {
        Vector128<int> sum = (blue * GrayBlue) + (green * GrayGreen) + (red * GrayRed) + Vector128.Create(1 << (GrayShift - 1));
        return Vector128.ConvertToSingle(Vector128.ShiftRightArithmetic(sum, GrayShift));
    }

    /// <summary>Normalises 48 interleaved three-channel bytes whose first byte is channel 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePeriodic48(Vector128<byte> first, Vector128<byte> second, Vector128<byte> third, in PeriodicAffine p, ref float destination, nuint at)
    {
        // 48 bytes = 12 float vectors; the channel pattern repeats every 3 vectors (12 values): ABCA BCAB CABC.
        Store16(first, p.ScaleA, p.OffsetA, p.ScaleB, p.OffsetB, p.ScaleC, p.OffsetC, p.ScaleA, p.OffsetA, ref destination, at);
        Store16(second, p.ScaleB, p.OffsetB, p.ScaleC, p.OffsetC, p.ScaleA, p.OffsetA, p.ScaleB, p.OffsetB, ref destination, at + 16);
        Store16(third, p.ScaleC, p.OffsetC, p.ScaleA, p.OffsetA, p.ScaleB, p.OffsetB, p.ScaleC, p.OffsetC, ref destination, at + 32);
    }

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
        Widen(bytes, out Vector128<int> i0, out Vector128<int> i1, out Vector128<int> i2, out Vector128<int> i3);
        Vector128<float> f0 = Vector128.ConvertToSingle(i0);
        Vector128<float> f1 = Vector128.ConvertToSingle(i1);
        Vector128<float> f2 = Vector128.ConvertToSingle(i2);
        Vector128<float> f3 = Vector128.ConvertToSingle(i3);
        Vector128.MultiplyAddEstimate(f0, scale0, offset0).StoreUnsafe(ref destination, at);
        Vector128.MultiplyAddEstimate(f1, scale1, offset1).StoreUnsafe(ref destination, at + 4);
        Vector128.MultiplyAddEstimate(f2, scale2, offset2).StoreUnsafe(ref destination, at + 8);
        Vector128.MultiplyAddEstimate(f3, scale3, offset3).StoreUnsafe(ref destination, at + 12);
    }

    /// <summary>Coefficient vectors for interleaved three-channel values: A = channels (0,1,2,0), B = (1,2,0,1), C = (2,0,1,2).</summary>
    private readonly struct PeriodicAffine(ChannelAffine first, ChannelAffine second, ChannelAffine third)
    {
        public Vector128<float> ScaleA { get; } = Vector128.Create(first.Scale, second.Scale, third.Scale, first.Scale);

        public Vector128<float> ScaleB { get; } = Vector128.Create(second.Scale, third.Scale, first.Scale, second.Scale);

        public Vector128<float> ScaleC { get; } = Vector128.Create(third.Scale, first.Scale, second.Scale, third.Scale);

        public Vector128<float> OffsetA { get; } = Vector128.Create(first.Offset, second.Offset, third.Offset, first.Offset);

        public Vector128<float> OffsetB { get; } = Vector128.Create(second.Offset, third.Offset, first.Offset, second.Offset);

        public Vector128<float> OffsetC { get; } = Vector128.Create(third.Offset, first.Offset, second.Offset, third.Offset);
    }
}
