using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Vision.Postprocessing;

/// <summary>
/// The effective per-class limits for one model: the manifest's threshold and minimum area, replaced by
/// <see cref="InspectionOptions.ClassOverrides"/> where configured. Built once per manifest; immutable.
/// </summary>
internal sealed class ClassRules
{
    // Used only when a hand-built (unvalidated) manifest leaves a defect class without limits.
    private const float DefaultThreshold = 0.5f;

    private readonly float[] _thresholds;
    private readonly int[] _minAreas;

    public ClassRules(ModelManifest manifest, InspectionOptions options)
    {
        int classes = manifest.ClassCount;
        if (classes is < 2 or > 256)
        {
            throw new InvalidOperationException($"model {manifest.Id} {manifest.Version} has {classes} classes; 2 to 256 are supported");
        }

        _thresholds = new float[classes];
        _minAreas = new int[classes];

        // Background never passes a threshold: it is what a pixel is when no defect class claims it.
        _thresholds[0] = float.PositiveInfinity;
        for (int c = 1; c < classes; c++)
        {
            ClassSpec spec = manifest.Classes[c];
            double threshold = spec.Threshold ?? DefaultThreshold;
            int minArea = spec.MinArea ?? 0;
            if (options.ClassOverrides.TryGetValue(spec.Name, out ClassOverrideOptions? custom) && custom is not null)
            {
                threshold = custom.Threshold ?? threshold;
                minArea = custom.MinArea ?? minArea;
            }

            _thresholds[c] = (float)threshold;
            _minAreas[c] = minArea;
        }

        List<string> unknown = [];
        foreach (string name in options.ClassOverrides.Keys)
        {
            if (!HasClass(manifest, name))
            {
                unknown.Add(name);
            }
        }

        UnknownOverrides = unknown;
    }

    /// <summary>Number of classes, background included.</summary>
    public int ClassCount => _thresholds.Length;

    /// <summary>Per-pixel probability thresholds by class index (index 0 is +infinity).</summary>
    public ReadOnlySpan<float> Thresholds => _thresholds;

    /// <summary>Minimum areas by class index, in model-input pixels.</summary>
    public ReadOnlySpan<int> MinAreas => _minAreas;

    /// <summary>Names in <see cref="InspectionOptions.ClassOverrides"/> that this model has no class for.</summary>
    public IReadOnlyList<string> UnknownOverrides { get; }

    private static bool HasClass(ModelManifest manifest, string name)
    {
        for (int c = 1; c < manifest.ClassCount; c++)
        {
            if (string.Equals(manifest.Classes[c].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
