namespace EdgeRuntime.ModelPackages.Archive;

/// <summary>Limits and checks for <see cref="PackageArchive.ExtractAsync"/>.</summary>
public sealed class ArchiveExtractionOptions
{
    /// <summary>Default <see cref="MaxTotalBytes"/>: 1 GiB, well above any UNet an edge device runs.</summary>
    public const long DefaultMaxTotalBytes = 1L << 30;

    /// <summary>Default <see cref="MaxEntries"/>.</summary>
    public const int DefaultMaxEntries = 1024;

    /// <summary>How the extracted package's signature is checked. Devices should require one.</summary>
    public required PackageVerificationOptions Verification { get; init; }

    /// <summary>Most uncompressed bytes the archive may hold (file data and tar structure); a larger archive is refused.</summary>
    public long MaxTotalBytes { get; init; } = DefaultMaxTotalBytes;

    /// <summary>Most entries the archive may hold.</summary>
    public int MaxEntries { get; init; } = DefaultMaxEntries;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Verification);
        if (MaxTotalBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTotalBytes), MaxTotalBytes, "MaxTotalBytes must be > 0.");
        }

        if (MaxEntries <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxEntries), MaxEntries, "MaxEntries must be > 0.");
        }
    }
}
