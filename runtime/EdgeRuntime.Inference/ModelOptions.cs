using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Inference;

/// <summary>
/// The <c>Model</c> section: which model package the service loads at start-up, how it is trusted, how often its
/// golden samples are judged again while it serves, and a shadow model compared with it.
/// </summary>
public sealed class ModelOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Model";

    /// <summary>Longest golden check interval accepted: one week.</summary>
    public const int MaxGoldenCheckMinutes = 7 * 24 * 60;

    /// <summary>The model package folder (manifest.json + the ONNX file) loaded at start-up.</summary>
    public string Package { get; set; } = string.Empty;

    /// <summary>
    /// A folder of trusted <c>*.pem</c> public keys. When set, a package's manifest.sig must verify with one of them;
    /// when not set, signatures are not checked. Applies to the shadow package too.
    /// </summary>
    public string? TrustedKeysDirectory { get; set; }

    /// <summary>Refuse packages without a valid signature. Needs <see cref="TrustedKeysDirectory"/>.</summary>
    public bool RequireSignature { get; set; }

    /// <summary>
    /// Minutes between judgements of the serving model's golden samples while it serves (they are always judged when a
    /// model loads); 0 turns the periodic check off. A disagreement reports the model degraded.
    /// </summary>
    public int GoldenCheckMinutes { get; set; }

    /// <summary>A candidate model run beside the serving one on a fraction of frames, to compare before promoting it.</summary>
    public ShadowOptions Shadow { get; set; } = new();
}

/// <summary>
/// The <c>Model:Shadow</c> section. The shadow model judges a fraction of the frames after their verdict is out, off the
/// critical path: it never changes or delays a verdict, and when it falls behind frames are skipped and counted.
/// Promote it with a swap of <see cref="Package"/>.
/// </summary>
public sealed class ShadowOptions
{
    /// <summary>The candidate package folder; empty = no shadow model.</summary>
    public string? Package { get; set; }

    /// <summary>Share of inspected frames the shadow model also judges, 0 to 1 (every n-th frame, evenly spread).</summary>
    public double Fraction { get; set; } = 0.1;

    /// <summary>Disagreements kept as examples (the most recent ones).</summary>
    public int MaxExamples { get; set; } = 20;

    /// <summary>Frames copied for the shadow and waiting for it at most; a sampled frame finding them all taken is skipped and counted.</summary>
    public int MaxQueued { get; set; } = 2;

    /// <summary>Whether a shadow package is configured (a method, so the configuration check does not take it for a key).</summary>
    public bool IsConfigured() => !string.IsNullOrWhiteSpace(Package);
}

/// <summary>Validates <see cref="ModelOptions"/> at start-up.</summary>
public sealed class ModelOptionsValidator : IValidateOptions<ModelOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(ModelOptions.SectionName);
        problems.NotEmpty(options.Package, nameof(options.Package), "a model package folder (manifest.json + the ONNX file)");
        if (options.RequireSignature)
        {
            problems.NotEmpty(options.TrustedKeysDirectory, nameof(options.TrustedKeysDirectory),
                "a folder of trusted *.pem public keys when Model:RequireSignature is true");
        }

        problems.InRange(options.GoldenCheckMinutes, nameof(options.GoldenCheckMinutes), 0, ModelOptions.MaxGoldenCheckMinutes, " minutes (0 = no periodic check)");
        if (options.Shadow is not { } shadow)
        {
            problems.Add(nameof(options.Shadow), null, "must be an object");
        }
        else if (shadow.IsConfigured())
        {
            const string Section = nameof(ModelOptions.Shadow) + ":";
            problems.Check(!double.IsNaN(shadow.Fraction) && shadow.Fraction > 0 && shadow.Fraction <= 1, Section + nameof(shadow.Fraction), shadow.Fraction,
                "must be more than 0 and at most 1 (the share of frames the shadow model judges)");
            problems.InRange(shadow.MaxExamples, Section + nameof(shadow.MaxExamples), 0, 1000, " disagreements kept");
            problems.InRange(shadow.MaxQueued, Section + nameof(shadow.MaxQueued), 1, 64, " frames waiting for the shadow model");
        }

        return problems.ToResult();
    }
}
