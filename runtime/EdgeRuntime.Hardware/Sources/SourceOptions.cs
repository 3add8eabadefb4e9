using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;
using EdgeRuntime.Vision.Imaging;

namespace EdgeRuntime.Hardware.Sources;

/// <summary>Where frames come from.</summary>
public enum SourceKind
{
    /// <summary>Images replayed from a folder (<see cref="ReplayFrameSource"/>).</summary>
    Replay,

    /// <summary>Rendered synthetic defect scenes (<see cref="SyntheticFrameSource"/>).</summary>
    Synthetic,

    /// <summary>A camera; not available in this build (the validator refuses it).</summary>
    Camera,
}

/// <summary>The <c>Source:Replay</c> subsection.</summary>
public sealed class ReplayOptions
{
    /// <summary>Folder of PNG, JPEG or BMP images, replayed in ordinal file-name order.</summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>Start again at the first image after the last; when false the source ends with <see cref="ReplayFinishedException"/>.</summary>
    public bool Loop { get; set; } = true;

    /// <summary>Most frames per second handed out; 0 means no limit.</summary>
    public double RateHz { get; set; }

    /// <summary>
    /// Mebibytes of decoded pixels kept in memory so that replay measures the pipeline rather than image
    /// decoding. Images are cached in replay order while they fit; the rest are decoded on every pass. 0 disables.
    /// </summary>
    public int CacheBudgetMegabytes { get; set; } = 256;
}

/// <summary>The <c>Source:Synthetic</c> subsection.</summary>
public sealed class SyntheticOptions
{
    /// <summary>Seed of the scene sequence: the same seed gives the same frames in the same order.</summary>
    public long Seed { get; set; } = 1;

    /// <summary>Frame width in pixels.</summary>
    public int Width { get; set; } = 512;

    /// <summary>Frame height in pixels.</summary>
    public int Height { get; set; } = 512;
}

/// <summary>The <c>Source</c> section.</summary>
public sealed class SourceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Source";

    /// <summary>Which frame source runs.</summary>
    public SourceKind Kind { get; set; } = SourceKind.Synthetic;

    /// <summary>Folder replay (<see cref="SourceKind.Replay"/>).</summary>
    public ReplayOptions Replay { get; set; } = new();

    /// <summary>Synthetic scenes (<see cref="SourceKind.Synthetic"/>).</summary>
    public SyntheticOptions Synthetic { get; set; } = new();
}

/// <summary>
/// Validates <see cref="SourceOptions"/> at start-up; only the keys of the chosen kind must be valid. For replay it
/// looks at the disk: the folder must exist and hold at least one image.
/// </summary>
public sealed class SourceOptionsValidator : IValidateOptions<SourceOptions>
{
    /// <summary>Smallest and largest synthetic frame side, matching the scene generator's limits.</summary>
    public const int MinSide = 32;

    /// <inheritdoc cref="MinSide"/>
    public const int MaxSide = 8192;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(SourceOptions.SectionName);
        problems.Defined(options.Kind, nameof(options.Kind));
        switch (options.Kind)
        {
            case SourceKind.Replay:
                ValidateReplay(problems, options.Replay);
                break;
            case SourceKind.Synthetic:
                ValidateSynthetic(problems, options.Synthetic);
                break;
            case SourceKind.Camera:
                problems.Add(nameof(options.Kind), options.Kind.ToString(),
                    "the camera source is not available in this build; use Replay or Synthetic");
                break;
            default:
                break;
        }

        return problems.ToResult();
    }

    private static void ValidateReplay(OptionsProblems problems, ReplayOptions? replay)
    {
        if (replay is null)
        {
            problems.Add("Replay", null, "must be an object with Directory, Loop, RateHz and CacheBudgetMegabytes when Kind is Replay");
            return;
        }

        problems.InRange(replay.RateHz, "Replay:RateHz", 0, 10_000, " frames per second (0 = no limit)");
        problems.InRange(replay.CacheBudgetMegabytes, "Replay:CacheBudgetMegabytes", 0, 65_536, " MiB (0 = no cache)");
        if (string.IsNullOrWhiteSpace(replay.Directory))
        {
            problems.Add("Replay:Directory", replay.Directory, "must be a folder of " + ImageFolder.Describe);
            return;
        }

        string? problem = ImageFolder.Problem(replay.Directory);
        if (problem is not null)
        {
            problems.Add("Replay:Directory", replay.Directory, problem);
        }
    }

    private static void ValidateSynthetic(OptionsProblems problems, SyntheticOptions? synthetic)
    {
        if (synthetic is null)
        {
            problems.Add("Synthetic", null, "must be an object with Seed, Width and Height when Kind is Synthetic");
            return;
        }

        problems.InRange(synthetic.Width, "Synthetic:Width", MinSide, MaxSide, " pixels");
        problems.InRange(synthetic.Height, "Synthetic:Height", MinSide, MaxSide, " pixels");
    }
}
