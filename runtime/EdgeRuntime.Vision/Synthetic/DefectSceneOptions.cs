namespace EdgeRuntime.Vision.Synthetic;

/// <summary>
/// Settings of <see cref="DefectSceneGenerator"/>. Call <see cref="Validate"/> (the generator does) before use;
/// an invalid value is refused with an error that names the key, the value and what is allowed.
/// </summary>
public sealed class DefectSceneOptions
{
    /// <summary>Configuration section name when bound from configuration.</summary>
    public const string SectionName = "SyntheticScenes";

    /// <summary>Scene width in pixels (32-8192).</summary>
    public int Width { get; set; } = 256;

    /// <summary>Scene height in pixels (32-8192).</summary>
    public int Height { get; set; } = 256;

    /// <summary>Seed of the scene sequence; the same seed and index always give the same pixels.</summary>
    public long Seed { get; set; } = 1;

    /// <summary>Probability that a scene is defect-free (0-1). The domain specification asks for 0.3-0.5.</summary>
    public double DefectFreeProbability { get; set; } = 0.4;

    /// <summary>Most defects painted into one defective scene (1-16).</summary>
    public int MaxDefectsPerScene { get; set; } = 3;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid key.</summary>
    public void Validate()
    {
        Check(Width is >= 32 and <= 8192, nameof(Width), Width, "an integer from 32 to 8192");
        Check(Height is >= 32 and <= 8192, nameof(Height), Height, "an integer from 32 to 8192");
        Check(DefectFreeProbability is >= 0.0 and <= 1.0, nameof(DefectFreeProbability), DefectFreeProbability, "a number from 0 to 1");
        Check(MaxDefectsPerScene is >= 1 and <= 16, nameof(MaxDefectsPerScene), MaxDefectsPerScene, "an integer from 1 to 16");
    }

    private static void Check(bool ok, string key, object value, string allowed)
    {
        if (!ok)
        {
            throw new ArgumentException(
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{SectionName}:{key} is {value}; allowed is {allowed}."),
                key);
        }
    }
}
