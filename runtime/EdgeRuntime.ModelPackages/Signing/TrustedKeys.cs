using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace EdgeRuntime.ModelPackages.Signing;

/// <summary>
/// The public keys whose signatures a device accepts, by key id. Loaded from a folder of <c>*.pem</c>
/// SubjectPublicKeyInfo files.
/// </summary>
/// <remarks>Immutable and safe to share between threads; holds key bytes only, no native handles.</remarks>
public sealed class TrustedKeys
{
    private readonly Dictionary<string, TrustedKey> _keys;

    private TrustedKeys(Dictionary<string, TrustedKey> keys)
    {
        _keys = keys;
    }

    /// <summary>The ids of the trusted keys.</summary>
    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    /// <summary>Loads every <c>*.pem</c> public key in <paramref name="directory"/> (not recursive).</summary>
    /// <exception cref="ModelPackageException">
    /// The folder does not exist, holds no keys, or a key file is not a P-256 public key: every bad file is listed.
    /// A device must not quietly trust fewer keys than its operator installed.
    /// </exception>
    public static async Task<TrustedKeys> LoadDirectoryAsync(string directory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new ModelPackageException(directory, [new PackageProblem(PackageProblemKind.TrustedKeyInvalid,
                $"trusted key folder {directory} does not exist")]);
        }

        string[] files = Directory.GetFiles(directory, "*.pem", SearchOption.TopDirectoryOnly);
        Array.Sort(files, StringComparer.Ordinal);
        List<(string Source, string Pem)> pems = new(files.Length);
        foreach (string file in files)
        {
            pems.Add((file, await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)));
        }

        if (pems.Count == 0)
        {
            throw new ModelPackageException(directory, [new PackageProblem(PackageProblemKind.TrustedKeyInvalid,
                $"trusted key folder {directory} holds no *.pem public keys")]);
        }

        return FromPem(pems);
    }

    /// <summary>Builds the set from PEM texts; <c>Source</c> names each one in errors.</summary>
    /// <exception cref="ModelPackageException">A text is not a P-256 SubjectPublicKeyInfo PEM.</exception>
    public static TrustedKeys FromPem(IEnumerable<(string Source, string Pem)> publicKeys)
    {
        ArgumentNullException.ThrowIfNull(publicKeys);
        Dictionary<string, TrustedKey> keys = new(StringComparer.Ordinal);
        List<PackageProblem> problems = [];
        foreach ((string source, string pem) in publicKeys)
        {
            try
            {
                byte[] spki = CanonicalSubjectPublicKeyInfo(pem);
                keys.TryAdd(SigningKeys.ComputeKeyId(spki), new TrustedKey(source, spki));
            }
            catch (Exception ex) when (ex is FormatException or CryptographicException)
            {
                problems.Add(new PackageProblem(PackageProblemKind.TrustedKeyInvalid, $"{source} is not a usable public key: {ex.Message}"));
            }
        }

        if (problems.Count > 0)
        {
            throw new ModelPackageException("trusted keys", problems);
        }

        return new TrustedKeys(keys);
    }

    /// <summary>
    /// Checks <paramref name="signatureDocument"/> (the bytes of manifest.sig) against the exact bytes of manifest.json.
    /// </summary>
    /// <returns>True when a trusted key verifies the signature; otherwise <paramref name="problem"/> says why not.</returns>
    public bool TryVerify(
        ReadOnlySpan<byte> manifestUtf8,
        ReadOnlySpan<byte> signatureDocument,
        [NotNullWhen(true)] out string? keyId,
        [NotNullWhen(false)] out PackageProblem? problem)
    {
        keyId = null;
        if (!ManifestSignature.TryParse(signatureDocument, out ManifestSignature? signature, out byte[]? signatureBytes, out string? error))
        {
            problem = new PackageProblem(PackageProblemKind.SignatureMalformed, $"{PackagePaths.SignatureFileName}: {error}");
            return false;
        }

        if (!_keys.TryGetValue(signature.KeyId, out TrustedKey? trusted))
        {
            problem = new PackageProblem(PackageProblemKind.SignatureKeyUntrusted,
                $"{PackagePaths.SignatureFileName} is signed with key {signature.KeyId}, which is not a trusted key (trusted: {string.Join(", ", _keys.Keys.Order(StringComparer.Ordinal))})");
            return false;
        }

        using ECDsa key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(trusted.SubjectPublicKeyInfo, out _);
        if (!key.VerifyData(manifestUtf8, signatureBytes, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            problem = new PackageProblem(PackageProblemKind.SignatureInvalid,
                $"{PackagePaths.SignatureFileName} does not verify with trusted key {signature.KeyId} ({Path.GetFileName(trusted.Source)}): {PackagePaths.ManifestFileName} was changed after it was signed, or the signature is damaged");
            return false;
        }

        keyId = signature.KeyId;
        problem = null;
        return true;
    }

    private static byte[] CanonicalSubjectPublicKeyInfo(string pem)
    {
        byte[] der = SigningKeys.DecodePem(pem, SigningKeys.PublicKeyLabel);
        using ECDsa key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(der, out int read);
        if (read != der.Length || !SigningKeys.IsP256(key))
        {
            throw new FormatException("not an ECDSA P-256 public key");
        }

        // The key id is defined over DER; re-encoding makes it independent of how the file was written.
        return key.ExportSubjectPublicKeyInfo();
    }

    private sealed record TrustedKey(string Source, byte[] SubjectPublicKeyInfo);
}
