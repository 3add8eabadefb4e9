namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>A defect class's verdict limits as written to the manifest: its index, per-pixel threshold and minimum area.</summary>
/// <param name="Index">The class's index (1 or more: class 0 has no limits).</param>
/// <param name="Threshold">Per-pixel probability in (0, 1).</param>
/// <param name="MinArea">Smallest reported region, in model-input pixels.</param>
public readonly record struct ClassLimits(int Index, double Threshold, int MinArea);
