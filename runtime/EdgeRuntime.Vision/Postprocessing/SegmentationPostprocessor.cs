using System.Buffers;
using System.Runtime.CompilerServices;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Imaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Vision.Postprocessing;

/// <summary>
/// Turns segmentation output into defects and a verdict.
/// </summary>
/// <remarks>
/// <para>Steps: (1) activation per the manifest (softmax over all K classes, sigmoid per class, or none when the
/// output already holds probabilities); (2) tile mode: tiles stitched into full-frame probability planes with a
/// feathered weighted average in the overlaps (<see cref="TileStitcher"/>); stretch mode: the probability planes
/// (not logits) are resized bilinearly from the model's input size back to the frame; (3) per-pixel decision: the
/// pixel belongs to the defect class with the highest probability among the defect classes whose probability
/// reaches their threshold, and to class 0 (good) when none does; the same rule serves softmax and sigmoid models
/// (the background's own probability takes no part, so lowering a threshold below 0.5 really makes the class more
/// sensitive); pixels outside <see cref="InspectionOptions.RegionOfInterest"/> or on the ignore mask are good;
/// (4) 8-connected components of equal class (<see cref="ConnectedComponents"/>); (5) a component becomes a
/// <see cref="Defect"/> when its area reaches its class's minimum area (in model-input pixels: frame pixels in tile
/// mode, scaled by the frame-to-input area ratio in stretch mode). The verdict is FAIL when at least one defect was
/// reported. Defects are added largest first (ties in raster order).</para>
/// <para>Thread-safe: per-call buffers are rented from this instance's pools and returned, per-model limits are cached
/// per manifest instance; steady state allocates nothing.</para>
/// </remarks>
public sealed partial class SegmentationPostprocessor : ISegmentationPostprocessor
{
    // Large enough for any frame the runtime takes (pools clamp to 2^30 elements); arrays are made only when rented.
    private const int MaxPooledLength = 1 << 30;

    // Buffers of one size held per pool: a call rents at most three of a size, and a few calls may run at once.
    private const int ArraysPerSize = 8;

    private readonly InspectionOptions _options;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<ModelManifest, ClassRules> _rules = new();
    private readonly ConditionalWeakTable<ModelManifest, ClassRules>.CreateValueCallback _createRules;
    // The ignore mask inverted into an AND mask: 0xFF where a pixel is judged, 0 where it is ignored.
    private readonly byte[]? _keep;
    private readonly int _maskWidth;
    private readonly int _maskHeight;

    // Own pools rather than ArrayPool<T>.Shared, which keeps a returned array in the returning thread's slot: the
    // pipeline's postprocess stage resumes on whichever pool thread is free, so with Shared a frame landing on another
    // thread rented new multi-megabyte (large-object heap) arrays. These pools give any thread what any thread returned.
    private readonly ArrayPool<float> _floats = ArrayPool<float>.Create(MaxPooledLength, ArraysPerSize);
    private readonly ArrayPool<int> _ints = ArrayPool<int>.Create(MaxPooledLength, ArraysPerSize);
    private readonly ArrayPool<byte> _bytes = ArrayPool<byte>.Create(MaxPooledLength, ArraysPerSize);
    private readonly ArrayPool<ComponentStats> _stats = ArrayPool<ComponentStats>.Create(MaxPooledLength, ArraysPerSize);
    private readonly ArrayPool<Defect> _defects = ArrayPool<Defect>.Create(MaxPooledLength, ArraysPerSize);

    /// <summary>Creates the postprocessor; loads the ignore mask, if configured, right away.</summary>
    /// <exception cref="Core.Frames.FrameSourceException">The ignore mask is missing or not a decodable image.</exception>
    public SegmentationPostprocessor(IOptions<InspectionOptions> options, ILogger<SegmentationPostprocessor> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _logger = logger;
        _createRules = CreateRules;
        if (!string.IsNullOrWhiteSpace(_options.IgnoreMaskPath))
        {
            _keep = ImageFiles.ReadMask(_options.IgnoreMaskPath, out _maskWidth, out _maskHeight);
            int ignored = 0;
            for (int i = 0; i < _keep.Length; i++)
            {
                ignored += _keep[i];
                _keep[i] = _keep[i] == 0 ? (byte)0xFF : (byte)0;
            }

            Log.IgnoreMaskLoaded(_logger, _options.IgnoreMaskPath, _maskWidth, _maskHeight, ignored);
        }
    }

    /// <summary>
    /// Works out the effective class limits for a model and logs a warning for each configured override that
    /// names a class the model does not have. Call when a model is loaded; <see cref="Postprocess"/> does it on
    /// the model's first frame otherwise.
    /// </summary>
    public void Prepare(ModelManifest manifest) => RulesFor(manifest);

    /// <inheritdoc />
    /// <remarks>
    /// <paramref name="output"/> holds <c>layout.Count</c> items of [K, input height, input width]. Defects are
    /// appended to <paramref name="result"/>, whose verdict is set. The class map, when given, receives the
    /// decision after the region of interest and ignore mask are applied (excluded pixels are 0).
    /// </remarks>
    public void Postprocess(ReadOnlySpan<float> output, TileLayout layout, ModelManifest manifest, InspectionResult result, Span<byte> classMap = default)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(result);
        ClassRules rules = RulesFor(manifest);
        int classes = rules.ClassCount;
        int defectClasses = classes - 1;
        int inputWidth = manifest.Input.Width;
        int inputHeight = manifest.Input.Height;
        int expected = layout.Count * classes * inputWidth * inputHeight;
        if (output.Length != expected)
        {
            throw new ArgumentException(
                $"model {manifest.Id} output has {output.Length} floats; {layout.Count} items of {classes}x{inputHeight}x{inputWidth} make {expected}",
                nameof(output));
        }

        int width = layout.FrameWidth;
        int height = layout.FrameHeight;
        int pixels = width * height;
        if (!classMap.IsEmpty && classMap.Length < pixels)
        {
            throw new ArgumentException($"the class map has {classMap.Length} bytes; the {width}x{height} frame needs {pixels}", nameof(classMap));
        }

        bool stretch = manifest.Input.Resize == ResizeMode.Stretch;
        if (!stretch && (layout.TileWidth != inputWidth || layout.TileHeight != inputHeight))
        {
            throw new ArgumentException(
                $"the layout's {layout.TileWidth}x{layout.TileHeight} tiles do not match model {manifest.Id}'s {inputWidth}x{inputHeight} output",
                nameof(layout));
        }

        PixelRect region = RegionFor(width, height);
        ReadOnlySpan<byte> keep = KeepMaskFor(width, height);
        float[] planes = _floats.Rent(defectClasses * pixels);
        byte[]? ownMap = classMap.IsEmpty ? _bytes.Rent(pixels) : null;
        try
        {
            Span<float> probabilities = planes.AsSpan(0, defectClasses * pixels);
            if (stretch)
            {
                ResizeBack(output, manifest, width, height, probabilities);
            }
            else
            {
                StitchTiles(output, layout, classes, manifest.Output, probabilities);
            }

            Span<byte> map = ownMap is null ? classMap[..pixels] : ownMap.AsSpan(0, pixels);
            ClassDecision.Decide(probabilities, width, height, rules.Thresholds, region, keep, map);
            Extract(map, probabilities, width, height, rules, AreaScale(manifest, width, height), result);

            // The verdict follows the list the sinks see: any reported defect fails the part.
            result.Verdict = result.Defects.Count > 0 ? Verdict.Fail : Verdict.Pass;
        }
        finally
        {
            _floats.Return(planes);
            if (ownMap is not null)
            {
                _bytes.Return(ownMap);
            }
        }
    }

    /// <summary>
    /// The smallest component, in frame pixels, that is reported for a class whose minimum area is
    /// <paramref name="minArea"/> model-input pixels, on a frame of this size: the minimum area itself in tile mode,
    /// scaled by the frame-to-input area ratio (rounded up) in stretch mode. The one place that rule lives, so a tool
    /// that sweeps minimum areas over measured component areas decides exactly as <see cref="Postprocess"/> does.
    /// </summary>
    public static int MinimumFrameArea(int minArea, ModelManifest manifest, int frameWidth, int frameHeight)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentOutOfRangeException.ThrowIfNegative(minArea);
        return MinimumFrameArea(minArea, AreaScale(manifest, frameWidth, frameHeight));
    }

    private static int MinimumFrameArea(int minArea, double areaScale) => (int)Math.Min(int.MaxValue, Math.Ceiling(minArea * areaScale));

    private static double AreaScale(ModelManifest manifest, int frameWidth, int frameHeight) =>
        manifest.Input.Resize == ResizeMode.Stretch
            ? (double)frameWidth * frameHeight / ((double)manifest.Input.Width * manifest.Input.Height)
            : 1.0;

    private ClassRules RulesFor(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return _rules.GetValue(manifest, _createRules);
    }

    private ClassRules CreateRules(ModelManifest manifest)
    {
        var rules = new ClassRules(manifest, _options);
        foreach (string name in rules.UnknownOverrides)
        {
            Log.UnknownClassOverride(_logger, name, manifest.Id, manifest.Version, DefectClassNames(manifest));
        }

        return rules;
    }

    private static string DefectClassNames(ModelManifest manifest)
    {
        var names = new string[manifest.ClassCount - 1];
        for (int c = 1; c < manifest.ClassCount; c++)
        {
            names[c - 1] = manifest.Classes[c].Name;
        }

        return string.Join(", ", names);
    }

    private PixelRect RegionFor(int width, int height)
    {
        if (_options.RegionOfInterest is not { } roi)
        {
            return new PixelRect(0, 0, width, height);
        }

        int left = Math.Max(0, roi.X);
        int top = Math.Max(0, roi.Y);
        int right = Math.Min(width, roi.X + roi.Width);
        int bottom = Math.Min(height, roi.Y + roi.Height);
        if (right <= left || bottom <= top)
        {
            // Judging nothing would pass every part: a region that misses the frame is a configuration error.
            throw new InvalidOperationException(
                $"{InspectionOptions.SectionName}:RegionOfInterest ({roi.X}, {roi.Y}, {roi.Width}x{roi.Height}) lies outside the {width}x{height} frame");
        }

        return new PixelRect(left, top, right - left, bottom - top);
    }

    private ReadOnlySpan<byte> KeepMaskFor(int width, int height)
    {
        if (_keep is null)
        {
            return default;
        }

        if (_maskWidth != width || _maskHeight != height)
        {
            throw new InvalidOperationException(
                $"{InspectionOptions.SectionName}:IgnoreMaskPath {_options.IgnoreMaskPath} is {_maskWidth}x{_maskHeight} but the frame is {width}x{height}");
        }

        return _keep;
    }

    private void StitchTiles(ReadOnlySpan<float> output, TileLayout layout, int classes, OutputSpec spec, Span<float> probabilities)
    {
        int pixels = layout.FrameWidth * layout.FrameHeight;
        float[] weights = _floats.Rent(layout.Count > 1 ? pixels : 1);
        float[] scratch = _floats.Rent(TileStitcher.ScratchLength(layout, classes));
        try
        {
            TileStitcher.Stitch(output, layout, classes, spec.Kind, spec.Activation, probabilities, weights, scratch);
        }
        finally
        {
            _floats.Return(weights);
            _floats.Return(scratch);
        }
    }

    private void ResizeBack(ReadOnlySpan<float> output, ModelManifest manifest, int width, int height, Span<float> probabilities)
    {
        int inputWidth = manifest.Input.Width;
        int inputHeight = manifest.Input.Height;
        int inputPlane = inputWidth * inputHeight;
        int classes = manifest.ClassCount;
        int defectClasses = classes - 1;
        float[] activated = _floats.Rent(defectClasses * inputPlane);
        int[] first = _ints.Rent(width);
        int[] second = _ints.Rent(width);
        float[] weight = _floats.Rent(width);
        float[] rows = _floats.Rent(2 * width);
        try
        {
            // The planes are contiguous, so the whole item activates as one run of inputPlane pixels.
            ClassActivation.Apply(manifest.Output.Kind, manifest.Output.Activation, output, classes, inputPlane, 0, inputPlane, activated, inputPlane);
            int pixels = width * height;
            for (int c = 0; c < defectClasses; c++)
            {
                Bilinear.ResizePlane(
                    activated.AsSpan(c * inputPlane, inputPlane), inputWidth, inputHeight,
                    probabilities.Slice(c * pixels, pixels), width, height,
                    first, second, weight, rows);
            }
        }
        finally
        {
            _floats.Return(activated);
            _ints.Return(first);
            _ints.Return(second);
            _floats.Return(weight);
            _floats.Return(rows);
        }
    }

    /// <summary>Labels the class map, measures the components and adds those that pass their limits.</summary>
    private void Extract(
        ReadOnlySpan<byte> classMap,
        ReadOnlySpan<float> probabilities,
        int width,
        int height,
        ClassRules rules,
        double areaScale,
        InspectionResult result)
    {
        int pixels = width * height;
        int[] labels = _ints.Rent(pixels);
        int[] parent = _ints.Rent(pixels + 1);
        ComponentStats[]? stats = null;
        Defect[]? found = null;
        try
        {
            int next = ConnectedComponents.LabelProvisional(classMap, width, height, labels, parent);
            if (next == 1)
            {
                return;
            }

            int count = ConnectedComponents.Resolve(parent, next);
            stats = _stats.Rent(count + 1);
            Measure(classMap, probabilities, width, height, labels, parent, stats.AsSpan(0, count + 1));

            found = _defects.Rent(count);
            int reported = 0;
            ReadOnlySpan<int> minAreas = rules.MinAreas;
            for (int id = 1; id <= count; id++)
            {
                ref ComponentStats s = ref stats[id];
                if (s.Area < MinimumFrameArea(minAreas[s.ClassIndex], areaScale))
                {
                    continue;
                }

                found[reported++] = new Defect(
                    s.ClassIndex,
                    new PixelRect(s.MinX, s.MinY, s.MaxX - s.MinX + 1, s.MaxY - s.MinY + 1),
                    s.Area,
                    (float)((double)s.SumX / s.Area),
                    (float)((double)s.SumY / s.Area),
                    s.MaxScore,
                    (float)(s.SumScore / s.Area));
            }

            Span<Defect> defects = found.AsSpan(0, reported);
            defects.Sort(static (a, b) => CompareDefects(a, b));
            foreach (ref readonly Defect defect in defects)
            {
                result.AddDefect(defect);
            }
        }
        finally
        {
            _ints.Return(labels);
            _ints.Return(parent);
            if (stats is not null)
            {
                _stats.Return(stats);
            }

            if (found is not null)
            {
                _defects.Return(found);
            }
        }
    }

    private static int CompareDefects(in Defect a, in Defect b)
    {
        int order = b.Area.CompareTo(a.Area);
        if (order == 0)
        {
            order = a.Bounds.Y.CompareTo(b.Bounds.Y);
        }

        if (order == 0)
        {
            order = a.Bounds.X.CompareTo(b.Bounds.X);
        }

        return order == 0 ? a.ClassIndex.CompareTo(b.ClassIndex) : order;
    }

    private static void Measure(
        ReadOnlySpan<byte> classMap,
        ReadOnlySpan<float> probabilities,
        int width,
        int height,
        ReadOnlySpan<int> labels,
        ReadOnlySpan<int> finalIds,
        Span<ComponentStats> stats)
    {
        int pixels = width * height;
        for (int id = 1; id < stats.Length; id++)
        {
            stats[id] = new ComponentStats { MinX = int.MaxValue, MinY = int.MaxValue, MaxX = -1, MaxY = -1 };
        }

        for (int y = 0; y < height; y++)
        {
            int row = y * width;
            ReadOnlySpan<byte> line = classMap.Slice(row, width);
            int x = 0;
            while (true)
            {
                // Defects are sparse: jump over good pixels with a vectorised search (their labels are never written).
                int skip = line[x..].IndexOfAnyExcept((byte)0);
                if (skip < 0)
                {
                    break;
                }

                x += skip;
                int c = line[x];
                float score = probabilities[((c - 1) * pixels) + row + x];
                ref ComponentStats s = ref stats[finalIds[labels[row + x]]];
                s.ClassIndex = c;
                s.Area++;
                s.MinX = Math.Min(s.MinX, x);
                s.MaxX = Math.Max(s.MaxX, x);
                s.MinY = Math.Min(s.MinY, y);
                s.MaxY = y;
                s.SumX += x;
                s.SumY += y;
                s.MaxScore = MathF.Max(s.MaxScore, score);
                s.SumScore += score;
                if (++x == width)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Running measurements of one component.</summary>
    private struct ComponentStats
    {
        public int ClassIndex;
        public int Area;
        public int MinX;
        public int MinY;
        public int MaxX;
        public int MaxY;
        public long SumX;
        public long SumY;
        public float MaxScore;
        public double SumScore;
    }

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Warning, "Inspection:ClassOverrides names class {ClassName}, which model {ModelId} {Version} does not have (its defect classes: {Classes}); the override is ignored")]
        public static partial void UnknownClassOverride(ILogger logger, string className, string modelId, string version, string classes);

        [LoggerMessage(3002, LogLevel.Information, "Ignore mask {Path} loaded: {Width}x{Height}, {Ignored} pixels are never judged")]
        public static partial void IgnoreMaskLoaded(ILogger logger, string path, int width, int height, int ignored);
    }
}
