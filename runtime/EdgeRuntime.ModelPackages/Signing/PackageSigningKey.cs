using System.Security.Cryptography;

namespace EdgeRuntime.ModelPackages.Signing;

/// <summary>
/// An ECDSA P-256 private key that signs manifests. Keys are stored as PEM: the private key as PKCS#8
/// ("PRIVATE KEY"), the public key as SubjectPublicKeyInfo ("PUBLIC KEY").
/// </summary>
/// <remarks>
/// Owns native key material: the creator disposes it. <see cref="Sign"/> may be called from several threads; nothing
/// may be called after <see cref="Dispose"/>.
/// </remarks>
public sealed class PackageSigningKey : IDisposable
{
    private readonly ECDsa _key;

    private PackageSigningKey(ECDsa key)
    {
        _key = key;
        KeyId = SigningKeys.ComputeKeyId(key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The key id written into signatures: 16 hex digits derived from the public key.</summary>
    public string KeyId { get; }

    /// <summary>Creates a fresh random P-256 key.</summary>
    public static PackageSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Imports a PKCS#8 PEM private key.</summary>
    /// <exception cref="ModelPackageException">The text is not an unencrypted PKCS#8 P-256 private key.</exception>
    public static PackageSigningKey FromPrivateKeyPem(ReadOnlySpan<char> pem, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ECDsa key = ECDsa.Create();
        bool handedOver = false;
        try
        {
            byte[] der = SigningKeys.DecodePem(pem, SigningKeys.PrivateKeyLabel);
            key.ImportPkcs8PrivateKey(der, out int read);
            if (read != der.Length || !SigningKeys.IsP256(key))
            {
                throw new FormatException("not an ECDSA P-256 private key");
            }

            PackageSigningKey signingKey = new(key);
            handedOver = true;
            return signingKey;
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new ModelPackageException(source, [new PackageProblem(PackageProblemKind.SigningKeyInvalid,
                $"{source} is not a usable signing key: {ex.Message}")]);
        }
        finally
        {
            if (!handedOver)
            {
                key.Dispose();
            }
        }
    }

    /// <summary>Reads a PKCS#8 PEM private key file.</summary>
    /// <exception cref="ModelPackageException">The file is not an unencrypted PKCS#8 P-256 private key.</exception>
    public static async Task<PackageSigningKey> LoadAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string pem = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return FromPrivateKeyPem(pem, path);
    }

    public string ExportPrivateKeyPem() => _key.ExportPkcs8PrivateKeyPem();

    public string ExportPublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <summary>Signs the exact bytes of a manifest.json.</summary>
    public ManifestSignature Sign(ReadOnlySpan<byte> manifestUtf8)
    {
        byte[] signature = _key.SignData(manifestUtf8, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new ManifestSignature
        {
            Algorithm = ManifestSignature.EcdsaP256Sha256,
            KeyId = KeyId,
            Signature = Convert.ToBase64String(signature),
        };
    }

    public void Dispose() => _key.Dispose();
}
