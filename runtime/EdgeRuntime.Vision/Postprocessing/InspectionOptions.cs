namespace EdgeRuntime.Vision.Postprocessing;

/// <summary>
/// Configuration section <c>Inspection</c>: which part of the frame is judged and per-class limits that override
/// the model manifest's. Read once at start-up (validated by <see cref="InspectionOptionsValidator"/>); changing
/// it needs a restart.
/// </summary>
public sealed class InspectionOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Inspection";

    /// <summary>Only pixels inside this rectangle (frame pixels) are judged; the whole frame when absent.
    /// A rectangle reaching past the frame is clipped to it.</summary>
    public RegionOfInterestOptions? RegionOfInterest { get; set; }

    /// <summary>
    /// A PNG the size of the frame; pixels where any channel is non-zero are never judged (fixtures, labels,
    /// edges of the part). Absent: nothing is ignored.
    /// </summary>
    public string? IgnoreMaskPath { get; set; }

    /// <summary>Per-class limits by class name (case-insensitive), replacing the manifest's threshold and/or minimum area.</summary>
    public Dictionary<string, ClassOverrideOptions> ClassOverrides { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>A rectangle in frame pixels (<c>Inspection:RegionOfInterest</c>).</summary>
public sealed class RegionOfInterestOptions
{
    /// <summary>Left edge, pixels from the frame's left.</summary>
    public int X { get; set; }

    /// <summary>Top edge, pixels from the frame's top.</summary>
    public int Y { get; set; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; set; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; set; }
}

/// <summary>Limits for one class (<c>Inspection:ClassOverrides:&lt;name&gt;</c>); an absent value keeps the manifest's.</summary>
public sealed class ClassOverrideOptions
{
    /// <summary>Per-pixel probability in (0, 1) a pixel must reach to count for the class.</summary>
    public double? Threshold { get; set; }

    /// <summary>Smallest region reported as a defect, in model-input pixels (frame pixels in tile mode).</summary>
    public int? MinArea { get; set; }
}
