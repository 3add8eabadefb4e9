using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Inference;

/// <summary>The <c>Model</c> section: which model package the service loads at start-up and how it is trusted.</summary>
public sealed class ModelOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Model";

    /// <summary>The model package folder (manifest.json + the ONNX file) loaded at start-up.</summary>
    public string Package { get; set; } = string.Empty;

    /// <summary>
    /// A folder of trusted <c>*.pem</c> public keys. When set, a package's manifest.sig must verify with one of them;
    /// when not set, signatures are not checked.
    /// </summary>
    public string? TrustedKeysDirectory { get; set; }

    /// <summary>Refuse packages without a valid signature. Needs <see cref="TrustedKeysDirectory"/>.</summary>
    public bool RequireSignature { get; set; }
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

        return problems.ToResult();
    }
}
