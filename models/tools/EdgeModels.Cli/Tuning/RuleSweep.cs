using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Postprocessing;

namespace EdgeModels.Cli.Tuning;

/// <summary>
/// Searches per-class thresholds and minimum areas for the verdict rule that best meets an image-level recall and
/// false-reject target on a labelled set. Every combination of the candidate thresholds (one list per defect class)
/// is a threshold set, whose largest components per image <see cref="Record"/> takes from a
/// <see cref="ComponentAreaRecorder"/>; every combination of candidate minimum areas is then applied to them, so the
/// search costs one model run and one postprocessing pass per threshold set per image.
/// </summary>
/// <remarks>
/// Ranking, best first: the larger margin by which the rule meets (or misses) its worse target, i.e. the larger
/// <c>min(recall - targetRecall, targetFalseRejectRate - falseRejectRate)</c>; then thresholds nearer 0.5 in sum
/// (a rule at the edge of the probability range is the least stable under a model update or quantization); then the
/// larger sum of minimum areas (fewer specks reported); then the order of enumeration. The same order as
/// models/training/evaluate.py --tune. Not thread-safe.
/// </remarks>
internal sealed class RuleSweep
{
    /// <summary>Most threshold sets measured: each costs one postprocessing pass per image.</summary>
    public const int MaxThresholdSets = 1024;

    /// <summary>Most minimum-area combinations applied to each threshold set.</summary>
    public const int MaxMinAreaSets = 100_000;

    private readonly ModelManifest _manifest;
    private readonly int _classCount;
    private readonly double[][] _thresholdSets;
    private readonly int[][] _minAreas;
    private readonly int _minAreaSets;
    private readonly List<string> _names = [];
    private readonly List<bool> _defective = [];
    private readonly List<int[]> _largest = [];
    private readonly List<int[]> _minimumFrameAreas = [];
    private readonly int _currentThresholdSet;
    private readonly int _currentMinAreaSet;

    /// <param name="manifest">The model's manifest; its own limits are always among the candidates.</param>
    /// <param name="thresholds">Candidate thresholds in (0, 1), tried for every defect class.</param>
    /// <param name="minAreas">Candidate minimum areas (model-input pixels, 0 or more), tried for every defect class.</param>
    public RuleSweep(ModelManifest manifest, IReadOnlyCollection<double> thresholds, IReadOnlyCollection<int> minAreas)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(thresholds);
        ArgumentNullException.ThrowIfNull(minAreas);
        _manifest = manifest;
        _classCount = manifest.ClassCount;
        Current = CurrentLimits(manifest);
        var thresholdLists = new double[_classCount][];
        _minAreas = new int[_classCount][];
        thresholdLists[0] = [0];
        _minAreas[0] = [0];
        foreach (ClassLimits current in Current)
        {
            thresholdLists[current.Index] = [.. thresholds.Append(current.Threshold).Distinct().Order()];
            _minAreas[current.Index] = [.. minAreas.Append(current.MinArea).Distinct().Order()];
        }

        long thresholdSets = thresholdLists.Aggregate(1L, (product, list) => product * list.Length);
        long minAreaSets = _minAreas.Aggregate(1L, (product, list) => product * list.Length);
        if (thresholdSets > MaxThresholdSets)
        {
            throw new ArgumentException(
                $"{thresholds.Count} thresholds for each of {_classCount - 1} defect classes make {thresholdSets} threshold sets, each a postprocessing pass per image; give at most {MaxThresholdSets} in all (fewer thresholds)",
                nameof(thresholds));
        }

        if (minAreaSets > MaxMinAreaSets)
        {
            throw new ArgumentException(
                $"{minAreas.Count} minimum areas for each of {_classCount - 1} defect classes make {minAreaSets} combinations; give at most {MaxMinAreaSets} in all (fewer minimum areas)",
                nameof(minAreas));
        }

        _thresholdSets = Combine(thresholdLists, thresholdSets);
        _minAreaSets = (int)minAreaSets;

        // Where the manifest's own rule sits in the enumeration (its values are always among the candidates).
        int[] thresholdDigits = new int[_classCount];
        int[] minAreaDigits = new int[_classCount];
        foreach (ClassLimits current in Current)
        {
            thresholdDigits[current.Index] = Array.IndexOf(thresholdLists[current.Index], current.Threshold);
            minAreaDigits[current.Index] = Array.IndexOf(_minAreas[current.Index], current.MinArea);
        }

        _currentThresholdSet = Encode(thresholdDigits, thresholdLists);
        _currentMinAreaSet = Encode(minAreaDigits, _minAreas);
    }

    /// <summary>Threshold sets to measure, in enumeration order: one threshold per class index (index 0 unused).</summary>
    public IReadOnlyList<double[]> ThresholdSets => _thresholdSets;

    /// <summary>Minimum-area combinations applied to each threshold set.</summary>
    public int MinAreaSets => _minAreaSets;

    /// <summary>The manifest's own limits per defect class.</summary>
    public IReadOnlyList<ClassLimits> Current { get; }

    /// <summary>Images recorded so far.</summary>
    public int Images => _names.Count;

    /// <summary>Recorded images with a defect in their truth mask.</summary>
    public int DefectiveImages => _defective.Count(d => d);

    /// <summary>Records one image: its name, whether its truth holds a defect, and the areas the recorder just measured.</summary>
    public void Record(string name, bool defective, ComponentAreaRecorder recorder)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(recorder);
        var largest = new int[_thresholdSets.Length * _classCount];
        for (int s = 0; s < _thresholdSets.Length; s++)
        {
            for (int c = 1; c < _classCount; c++)
            {
                largest[(s * _classCount) + c] = recorder.LargestArea(s, c);
            }
        }

        // The frame-pixel size of every candidate minimum area on this frame: the runtime's rule, applied once.
        var minimum = new int[_classCount * _minAreas.Max(list => list.Length)];
        int stride = minimum.Length / _classCount;
        for (int c = 1; c < _classCount; c++)
        {
            for (int k = 0; k < _minAreas[c].Length; k++)
            {
                minimum[(c * stride) + k] = SegmentationPostprocessor.MinimumFrameArea(_minAreas[c][k], _manifest, recorder.FrameWidth, recorder.FrameHeight);
            }
        }

        _names.Add(name);
        _defective.Add(defective);
        _largest.Add(largest);
        _minimumFrameAreas.Add(minimum);
    }

    /// <summary>Judges every candidate rule on the recorded images.</summary>
    /// <param name="targetRecall">Image-level defect recall to reach, 0..1.</param>
    /// <param name="targetFalseRejectRate">False-reject rate not to exceed, 0..1.</param>
    /// <param name="top">How many of the best rules to return.</param>
    /// <returns>The manifest's own rule and the <paramref name="top"/> best, best first.</returns>
    /// <exception cref="InvalidOperationException">The recorded images lack either a defective or a defect-free image.</exception>
    public (VerdictRule Current, IReadOnlyList<VerdictRule> Best) Search(double targetRecall, double targetFalseRejectRate, int top)
    {
        int defective = DefectiveImages;
        int good = Images - defective;
        if (defective == 0 || good == 0)
        {
            throw new InvalidOperationException(
                $"the tuning set has {defective} image(s) with a defect and {good} defect-free; recall and false-reject rate need both");
        }

        var outcomes = new List<Outcome>(_thresholdSets.Length * _minAreaSets);
        int[] choice = new int[_classCount];
        for (int s = 0; s < _thresholdSets.Length; s++)
        {
            for (int m = 0; m < _minAreaSets; m++)
            {
                Decode(m, choice);
                (int failedDefective, int failedGood) = Count(s, choice);
                outcomes.Add(new Outcome(s, m, (double)failedDefective / defective, (double)failedGood / good));
            }
        }

        double Margin(Outcome o) => Math.Min(o.Recall - targetRecall, targetFalseRejectRate - o.FalseRejectRate);
        List<Outcome> ranked = [.. outcomes
            .OrderByDescending(Margin)
            .ThenBy(o => _thresholdSets[o.ThresholdSet].Skip(1).Sum(t => Math.Abs(t - 0.5)))
            .ThenByDescending(o => MinAreaSum(o.MinAreaSet))
            .Take(top)];

        Outcome current = outcomes[(_currentThresholdSet * _minAreaSets) + _currentMinAreaSet];
        return (ToRule(current, targetRecall, targetFalseRejectRate), [.. ranked.Select(o => ToRule(o, targetRecall, targetFalseRejectRate))]);
    }

    private (int FailedDefective, int FailedGood) Count(int set, int[] choice)
    {
        int failedDefective = 0;
        int failedGood = 0;
        for (int i = 0; i < _names.Count; i++)
        {
            if (Fails(i, set, choice))
            {
                if (_defective[i])
                {
                    failedDefective++;
                }
                else
                {
                    failedGood++;
                }
            }
        }

        return (failedDefective, failedGood);
    }

    /// <summary>The runtime's verdict: FAIL when any class has a component of at least its minimum area (and at least one pixel).</summary>
    private bool Fails(int image, int set, int[] choice)
    {
        int[] largest = _largest[image];
        int[] minimum = _minimumFrameAreas[image];
        int stride = minimum.Length / _classCount;
        for (int c = 1; c < _classCount; c++)
        {
            int area = largest[(set * _classCount) + c];
            if (area > 0 && area >= minimum[(c * stride) + choice[c]])
            {
                return true;
            }
        }

        return false;
    }

    private VerdictRule ToRule(Outcome outcome, double targetRecall, double targetFalseRejectRate)
    {
        int[] choice = new int[_classCount];
        Decode(outcome.MinAreaSet, choice);
        List<string> missed = [];
        List<string> falseRejects = [];
        for (int i = 0; i < _names.Count; i++)
        {
            bool fails = Fails(i, outcome.ThresholdSet, choice);
            if (_defective[i] && !fails)
            {
                missed.Add(_names[i]);
            }
            else if (!_defective[i] && fails)
            {
                falseRejects.Add(_names[i]);
            }
        }

        var limits = new ClassLimits[_classCount - 1];
        for (int c = 1; c < _classCount; c++)
        {
            limits[c - 1] = new ClassLimits(c, _thresholdSets[outcome.ThresholdSet][c], _minAreas[c][choice[c]]);
        }

        return new VerdictRule
        {
            Limits = limits,
            Recall = outcome.Recall,
            FalseRejectRate = outcome.FalseRejectRate,
            MissedImages = missed,
            FalseRejectImages = falseRejects,
            MeetsTargets = outcome.Recall >= targetRecall && outcome.FalseRejectRate <= targetFalseRejectRate,
        };
    }

    private int MinAreaSum(int minAreaSet)
    {
        int[] choice = new int[_classCount];
        Decode(minAreaSet, choice);
        int sum = 0;
        for (int c = 1; c < _classCount; c++)
        {
            sum += _minAreas[c][choice[c]];
        }

        return sum;
    }

    /// <summary>Mixed-radix digits of a minimum-area combination: the candidate index per class.</summary>
    private void Decode(int minAreaSet, int[] choice)
    {
        for (int c = _classCount - 1; c >= 1; c--)
        {
            choice[c] = minAreaSet % _minAreas[c].Length;
            minAreaSet /= _minAreas[c].Length;
        }
    }

    /// <summary>The enumeration index of one candidate per class: mixed-radix digits, the last class least significant,
    /// as <see cref="Combine"/> and <see cref="Decode"/> order them.</summary>
    private static int Encode<T>(int[] digits, T[][] candidates)
    {
        int index = 0;
        for (int c = 0; c < digits.Length; c++)
        {
            index = (index * candidates[c].Length) + digits[c];
        }

        return index;
    }

    private static double[][] Combine(double[][] perClass, long count)
    {
        var sets = new double[count][];
        for (long n = 0; n < count; n++)
        {
            var set = new double[perClass.Length];
            long rest = n;
            for (int c = perClass.Length - 1; c >= 0; c--)
            {
                set[c] = perClass[c][rest % perClass[c].Length];
                rest /= perClass[c].Length;
            }

            sets[n] = set;
        }

        return sets;
    }

    private static ClassLimits[] CurrentLimits(ModelManifest manifest)
    {
        var limits = new ClassLimits[manifest.ClassCount - 1];
        for (int c = 1; c < manifest.ClassCount; c++)
        {
            ClassSpec spec = manifest.Classes[c];
            // The loader validated the manifest, and validation requires both limits on every defect class.
            limits[c - 1] = new ClassLimits(
                c,
                spec.Threshold ?? throw new InvalidOperationException($"class {spec.Name} of the loaded manifest has no threshold"),
                spec.MinArea ?? throw new InvalidOperationException($"class {spec.Name} of the loaded manifest has no minArea"));
        }

        return limits;
    }

    private readonly record struct Outcome(int ThresholdSet, int MinAreaSet, double Recall, double FalseRejectRate);
}
