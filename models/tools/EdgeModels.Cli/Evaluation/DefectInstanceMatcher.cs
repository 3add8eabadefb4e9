using EdgeRuntime.Core.Inspection;
using OpenCvSharp;

namespace EdgeModels.Cli.Evaluation;

/// <summary>Instance counts of one image or, summed, of a set.</summary>
/// <param name="TruthInstances">True defect instances: 8-connected components of one defect class in the truth mask.</param>
/// <param name="RecalledInstances">True instances that share at least one pixel with a reported defect of any defect class.</param>
/// <param name="ReportedDefects">Defects the postprocessor reported (components that reached their class's minimum area).</param>
/// <param name="FalseDefects">Reported defects that share no pixel with any true defect pixel.</param>
internal readonly record struct InstanceCounts(int TruthInstances, int RecalledInstances, int ReportedDefects, int FalseDefects)
{
    public static InstanceCounts operator +(InstanceCounts a, InstanceCounts b) => new(
        a.TruthInstances + b.TruthInstances,
        a.RecalledInstances + b.RecalledInstances,
        a.ReportedDefects + b.ReportedDefects,
        a.FalseDefects + b.FalseDefects);
}

/// <summary>
/// Matches true defect instances with the defects the runtime reported.
/// </summary>
/// <remarks>
/// <para>A true instance is an 8-connected component of one defect class in the truth mask (the connectivity the
/// postprocessor uses for its own defects). It is recalled when at least one of its pixels lies in a reported
/// defect of any defect class: the line rejects the part whether the scratch was called a scratch or a blob, and
/// a defect that is found only in part is still found. Predicted pixels of components below their class's
/// minimum area do not count, because the runtime does not report them and the line would pass the part.</para>
/// <para>A reported defect's pixels are found by labelling the postprocessor's class map the same way and taking
/// the component whose class, bounding box and area equal the defect's, so the minimum-area rule stays the
/// postprocessor's alone.</para>
/// <para>Labelling uses OpenCV's <c>connectedComponentsWithStats</c> on one binary mask per class. The runtime's own
/// labeller (EdgeRuntime.Vision's ConnectedComponents) is internal to that assembly. Not thread-safe; the OpenCV
/// matrices are reused between images and freed by <see cref="Dispose"/>.</para>
/// </remarks>
internal sealed class DefectInstanceMatcher : IDisposable
{
    private const int StatLeft = 0;
    private const int StatTop = 1;
    private const int StatWidth = 2;
    private const int StatHeight = 3;
    private const int StatArea = 4;
    private const int StatColumns = 5;

    private readonly Mat _binary = new();
    private readonly Mat _labels = new();
    private readonly Mat _stats = new();
    private readonly Mat _centroids = new();
    private byte[] _inReported = [];
    private bool[] _componentFlags = [];
    private bool[] _componentTouches = [];
    private bool[] _defectMatched = [];

    /// <summary>Counts the instances of one image.</summary>
    /// <param name="truth">True class per pixel, <paramref name="width"/> * <paramref name="height"/> bytes.</param>
    /// <param name="predicted">The postprocessor's class map of the same image.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="classCount">K, classes including good.</param>
    /// <param name="reported">The defects the postprocessor reported for <paramref name="predicted"/>.</param>
    /// <exception cref="InvalidOperationException">A reported defect has no component in the class map.</exception>
    public InstanceCounts Match(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted, int width, int height, int classCount, IReadOnlyList<Defect> reported)
    {
        ArgumentNullException.ThrowIfNull(reported);
        int pixels = width * height;
        if (truth.Length != pixels || predicted.Length != pixels)
        {
            throw new ArgumentException($"a {width}x{height} image needs {pixels} pixels; truth has {truth.Length}, prediction {predicted.Length}");
        }

        Span<byte> inReported = Grow(ref _inReported, pixels);
        inReported.Clear();
        Span<bool> defectMatched = Grow(ref _defectMatched, reported.Count);
        defectMatched.Clear();
        int falseDefects = 0;
        int matched = 0;
        for (int c = 1; c < classCount; c++)
        {
            int labels = Label(predicted, c, width, height);
            if (labels <= 1)
            {
                continue;
            }

            Span<bool> isReported = Grow(ref _componentFlags, labels);
            Span<bool> touchesTruth = Grow(ref _componentTouches, labels);
            touchesTruth.Clear();
            ReadOnlySpan<int> stats = _stats.AsSpan<int>();
            isReported[0] = false;
            for (int j = 1; j < labels; j++)
            {
                ReadOnlySpan<int> s = stats.Slice(j * StatColumns, StatColumns);
                var bounds = new PixelRect(s[StatLeft], s[StatTop], s[StatWidth], s[StatHeight]);
                isReported[j] = Claim(reported, defectMatched, c, bounds, s[StatArea]);
                matched += isReported[j] ? 1 : 0;
            }

            ReadOnlySpan<int> label = _labels.AsSpan<int>()[..pixels];
            for (int i = 0; i < pixels; i++)
            {
                int j = label[i];
                if (isReported[j])
                {
                    inReported[i] = 1;
                    touchesTruth[j] |= truth[i] != 0;
                }
            }

            for (int j = 1; j < labels; j++)
            {
                falseDefects += isReported[j] && !touchesTruth[j] ? 1 : 0;
            }
        }

        if (matched != reported.Count)
        {
            throw new InvalidOperationException(
                $"{reported.Count - matched} of the {reported.Count} reported defects have no component of their class, bounds and area in the class map");
        }

        int truthInstances = 0;
        int recalled = 0;
        for (int c = 1; c < classCount; c++)
        {
            int labels = Label(truth, c, width, height);
            if (labels <= 1)
            {
                continue;
            }

            Span<bool> hit = Grow(ref _componentFlags, labels);
            hit.Clear();
            ReadOnlySpan<int> label = _labels.AsSpan<int>()[..pixels];
            for (int i = 0; i < pixels; i++)
            {
                hit[label[i]] |= inReported[i] != 0;
            }

            truthInstances += labels - 1;
            for (int j = 1; j < labels; j++)
            {
                recalled += hit[j] ? 1 : 0;
            }
        }

        return new InstanceCounts(truthInstances, recalled, reported.Count, falseDefects);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _binary.Dispose();
        _labels.Dispose();
        _stats.Dispose();
        _centroids.Dispose();
    }

    /// <summary>Marks the first unclaimed defect with this class, bounds and area as matched; false when there is none.</summary>
    private static bool Claim(IReadOnlyList<Defect> reported, Span<bool> claimed, int classIndex, PixelRect bounds, int area)
    {
        for (int d = 0; d < reported.Count; d++)
        {
            Defect defect = reported[d];
            if (!claimed[d] && defect.ClassIndex == classIndex && defect.Area == area && defect.Bounds == bounds)
            {
                claimed[d] = true;
                return true;
            }
        }

        return false;
    }

    /// <summary>Labels the pixels of class <paramref name="c"/>; returns the label count including the background (label 0).</summary>
    private int Label(ReadOnlySpan<byte> map, int c, int width, int height)
    {
        if (!map.Contains((byte)c))
        {
            return 1;
        }

        _binary.Create(height, width, MatType.CV_8UC1);
        Span<byte> binary = _binary.AsSpan<byte>();
        for (int i = 0; i < binary.Length; i++)
        {
            binary[i] = map[i] == c ? (byte)255 : (byte)0;
        }

        using InputArray source = InputArray.Create(_binary);
        using OutputArray labels = OutputArray.Create(_labels);
        using OutputArray stats = OutputArray.Create(_stats);
        using OutputArray centroids = OutputArray.Create(_centroids);
        return Cv2.ConnectedComponentsWithStats(source, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
    }

    private static Span<T> Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[Math.Max(length, array.Length * 2)];
        }

        return array.AsSpan(0, length);
    }
}
