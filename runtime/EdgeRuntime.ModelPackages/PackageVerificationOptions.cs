using EdgeRuntime.ModelPackages.Signing;

namespace EdgeRuntime.ModelPackages;

/// <summary>
/// What opening a package checks about its signature. The manifest, the model's SHA-256 and the golden files are
/// always checked. Built by the three factories, so a required signature always comes with keys to check it.
/// </summary>
public sealed class PackageVerificationOptions
{
    private PackageVerificationOptions(TrustedKeys? trustedKeys, bool requireSignature)
    {
        TrustedKeys = trustedKeys;
        RequireSignature = requireSignature;
    }

    /// <summary>Signatures are not checked; a manifest.sig is left alone. For tools working on unsigned packages.</summary>
    public static PackageVerificationOptions NoSignatureCheck { get; } = new(null, requireSignature: false);

    /// <summary>Keys a present signature is checked against; null when signatures are not checked.</summary>
    public TrustedKeys? TrustedKeys { get; }

    /// <summary>True when an unsigned package is refused.</summary>
    public bool RequireSignature { get; }

    /// <summary>A present manifest.sig must verify with one of <paramref name="trustedKeys"/>; unsigned packages are accepted.</summary>
    public static PackageVerificationOptions VerifyIfSigned(TrustedKeys trustedKeys)
    {
        ArgumentNullException.ThrowIfNull(trustedKeys);
        return new(trustedKeys, requireSignature: false);
    }

    /// <summary>manifest.sig must exist and verify with one of <paramref name="trustedKeys"/>.</summary>
    public static PackageVerificationOptions RequireSignatureFrom(TrustedKeys trustedKeys)
    {
        ArgumentNullException.ThrowIfNull(trustedKeys);
        return new(trustedKeys, requireSignature: true);
    }
}
