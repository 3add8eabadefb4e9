using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Archive;

/// <summary>The <c>Archive</c> section: which frames are kept on disk, where, and how much disk they may use.</summary>
public sealed class ArchiveOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Archive";

    /// <summary>Whether frames are archived at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Folder of the archive (created if missing). Only files the archive wrote are counted or deleted.</summary>
    public string Directory { get; set; } = "/var/lib/edge-runtime/archive";

    /// <summary>Mebibytes the archive's PNG and JSON files may use; the oldest entries are deleted to stay below it.</summary>
    public int QuotaMegabytes { get; set; } = 1024;

    /// <summary>Fraction of PASS frames archived as well (0 to 1); every FAIL frame with pixels is archived.</summary>
    public double PassSampleRate { get; set; } = 0.01;

    /// <summary>Frames waiting for the encoder; when full the oldest waiting frame is dropped and counted.</summary>
    public int QueueCapacity { get; set; } = 8;
}

/// <summary>Validates <see cref="ArchiveOptions"/> at start-up.</summary>
public sealed class ArchiveOptionsValidator : IValidateOptions<ArchiveOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ArchiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(ArchiveOptions.SectionName);
        if (!options.Enabled)
        {
            return problems.ToResult();
        }

        if (string.IsNullOrWhiteSpace(options.Directory) || options.Directory.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            problems.Add(nameof(options.Directory), options.Directory, "must be a folder path");
        }
        else if (File.Exists(options.Directory))
        {
            problems.Add(nameof(options.Directory), options.Directory, "must be a folder, but a file of that name exists");
        }

        problems.InRange(options.QuotaMegabytes, nameof(options.QuotaMegabytes), 1, 16_777_216, " MiB");
        problems.InRange(options.PassSampleRate, nameof(options.PassSampleRate), 0, 1, " (fraction of PASS frames)");
        problems.InRange(options.QueueCapacity, nameof(options.QueueCapacity), 1, 1024, " frames");
        return problems.ToResult();
    }
}
