using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.ModelPackages.Signing;

/// <summary>
/// The contents of <c>manifest.sig</c>: an ECDSA P-256 / SHA-256 signature over the exact bytes of
/// <c>manifest.json</c>, which carries the model's SHA-256 and so covers the model file too.
/// </summary>
public sealed partial record ManifestSignature
{
    /// <summary>The one algorithm of schema version 1.</summary>
    public const string EcdsaP256Sha256 = "ECDSA-P256-SHA256";

    /// <summary>Size of an IEEE P1363 P-256 signature: r and s, 32 bytes each.</summary>
    public const int SignatureSizeBytes = 64;

    /// <summary>Always <see cref="EcdsaP256Sha256"/>.</summary>
    public required string Algorithm { get; init; }

    /// <summary>The signer's key id: the first 16 hex digits of SHA-256 over its SubjectPublicKeyInfo DER.</summary>
    public required string KeyId { get; init; }

    /// <summary>Base64 of the IEEE P1363 signature (r || s).</summary>
    public required string Signature { get; init; }

    /// <summary>Serializes the signature document as indented UTF-8 JSON.</summary>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ManifestJsonContext.Default.ManifestSignature);

    /// <summary>Parses and checks a signature document; <paramref name="error"/> says what is wrong when it fails.</summary>
    public static bool TryParse(
        ReadOnlySpan<byte> utf8Json,
        [NotNullWhen(true)] out ManifestSignature? signature,
        [NotNullWhen(true)] out byte[]? signatureBytes,
        [NotNullWhen(false)] out string? error)
    {
        signature = null;
        signatureBytes = null;
        if (Utf8Text.IndexOfInvalid(utf8Json) is var invalid and >= 0)
        {
            error = $"not valid UTF-8 text: bad byte sequence at offset {invalid}";
            return false;
        }

        try
        {
            signature = JsonSerializer.Deserialize(utf8Json, ManifestJsonContext.Default.ManifestSignature);
        }
        catch (JsonException ex)
        {
            error = $"not a signature document {{\"algorithm\", \"keyId\", \"signature\"}}: {ex.Message}";
            return false;
        }

        if (signature is null)
        {
            error = "not a signature document: it is JSON null";
            return false;
        }

        if (!string.Equals(signature.Algorithm, EcdsaP256Sha256, StringComparison.Ordinal))
        {
            error = $"algorithm = \"{signature.Algorithm}\": must be \"{EcdsaP256Sha256}\"";
            signature = null;
            return false;
        }

        if (!KeyIdPattern().IsMatch(signature.KeyId))
        {
            error = $"keyId = \"{signature.KeyId}\": must be 16 lowercase hex digits";
            signature = null;
            return false;
        }

        byte[] decoded = new byte[SignatureSizeBytes];
        if (!Convert.TryFromBase64String(signature.Signature, decoded, out int written) || written != SignatureSizeBytes)
        {
            error = $"signature: must be base64 of a {SignatureSizeBytes}-byte IEEE P1363 signature";
            signature = null;
            return false;
        }

        signatureBytes = decoded;
        error = null;
        return true;
    }

    [GeneratedRegex("^[0-9a-f]{16}$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyIdPattern();
}
