using System.Security.Cryptography;

namespace EdgeRuntime.ModelPackages.Signing;

/// <summary>PEM and key-id rules shared by signing keys and trusted keys.</summary>
internal static class SigningKeys
{
    public const string PublicKeyLabel = "PUBLIC KEY";
    public const string PrivateKeyLabel = "PRIVATE KEY";

    private const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>First 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER.</summary>
    public static string ComputeKeyId(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo))[..16];

    public static bool IsP256(ECDsa key)
    {
        ECCurve curve = key.ExportParameters(includePrivateParameters: false).Curve;
        return curve.IsNamed
            && (string.Equals(curve.Oid.Value, P256Oid, StringComparison.Ordinal)
                || curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256" or "secp256r1" or "prime256v1");
    }

    /// <summary>Decodes the single PEM block of <paramref name="pem"/>, which must carry <paramref name="expectedLabel"/>.</summary>
    public static byte[] DecodePem(ReadOnlySpan<char> pem, string expectedLabel)
    {
        if (!PemEncoding.TryFind(pem, out PemFields fields))
        {
            throw new FormatException("no PEM block found (expected '-----BEGIN " + expectedLabel + "-----')");
        }

        ReadOnlySpan<char> label = pem[fields.Label];
        if (!label.SequenceEqual(expectedLabel))
        {
            string hint = label switch
            {
                "EC PRIVATE KEY" => "; convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8.pem`",
                "ENCRYPTED PRIVATE KEY" => "; encrypted keys are not supported, decrypt it with `openssl pkcs8 -in KEY -out PLAIN.pem`",
                "PRIVATE KEY" => "; this is a private key, give the public key (`edge-models keygen` writes both)",
                _ => string.Empty,
            };
            throw new FormatException($"PEM block is '{label}', expected '{expectedLabel}'{hint}");
        }

        byte[] der = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(pem[fields.Base64Data], der, out int written) || written != der.Length)
        {
            throw new FormatException("the PEM block's base64 body is damaged");
        }

        return der;
    }
}
