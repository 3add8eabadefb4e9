using System.Security.Cryptography;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.ModelPackages;

/// <summary>How far a package's signature was established when it was opened.</summary>
public enum PackageSignatureState
{
    /// <summary>The package has no manifest.sig (and none was required).</summary>
    Unsigned,

    /// <summary>manifest.sig exists but was not checked: no trusted keys were given.</summary>
    NotVerified,

    /// <summary>manifest.sig verified with a trusted key (<see cref="ModelPackage.SignerKeyId"/>).</summary>
    Verified,
}

/// <summary>
/// A model package folder that was opened and verified: its manifest is valid, its ONNX file and golden images exist
/// and match the manifest's SHA-256 digests, and its signature was checked as the options asked.
/// </summary>
/// <remarks>
/// Immutable and safe to share between threads. Holds no open files: the paths are absolute and stay valid while the
/// folder is left alone. A file replaced after opening is not noticed; <see cref="ReadVerifiedModelAsync"/> reads
/// the model and checks its hash in one step, for callers that load from memory.
/// </remarks>
public sealed class ModelPackage
{
    private ModelPackage(string directoryPath, ModelManifest manifest, byte[] manifestBytes, PackageSignatureState signatureState, string? signerKeyId)
    {
        DirectoryPath = directoryPath;
        Manifest = manifest;
        ManifestBytes = manifestBytes;
        SignatureState = signatureState;
        SignerKeyId = signerKeyId;
    }

    /// <summary>Absolute path of the package folder.</summary>
    public string DirectoryPath { get; }

    public ModelManifest Manifest { get; }

    /// <summary>The exact bytes of manifest.json, as signed.</summary>
    public ReadOnlyMemory<byte> ManifestBytes { get; }

    public PackageSignatureState SignatureState { get; }

    /// <summary>The id of the trusted key that verified the signature; null unless <see cref="SignatureState"/> is Verified.</summary>
    public string? SignerKeyId { get; }

    /// <summary>Absolute path of manifest.json.</summary>
    public string ManifestPath => Path.Combine(DirectoryPath, PackagePaths.ManifestFileName);

    /// <summary>Absolute path of the ONNX file.</summary>
    public string ModelPath => PackagePaths.Resolve(DirectoryPath, Manifest.Model.File);

    /// <summary>Absolute path of manifest.sig; the file exists unless <see cref="SignatureState"/> is Unsigned.</summary>
    public string SignaturePath => Path.Combine(DirectoryPath, PackagePaths.SignatureFileName);

    /// <summary>Package-relative names of every file that belongs to the package, in ordinal order.</summary>
    public IReadOnlyList<string> RelativeFiles
    {
        get
        {
            List<string> files = [PackagePaths.ManifestFileName, Manifest.Model.File];
            if (SignatureState != PackageSignatureState.Unsigned)
            {
                files.Add(PackagePaths.SignatureFileName);
            }

            foreach (GoldenSampleSpec sample in Manifest.GoldenSamples ?? [])
            {
                files.Add(sample.Image);
            }

            files.Sort(StringComparer.Ordinal);
            return files;
        }
    }

    /// <summary>Absolute path of a golden sample image of this package.</summary>
    public string GetGoldenSamplePath(GoldenSampleSpec sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (Manifest.GoldenSamples is not { } samples || !samples.Contains(sample))
        {
            throw new ArgumentException($"'{sample.Image}' is not a golden sample of package {Manifest.Id}.", nameof(sample));
        }

        return PackagePaths.Resolve(DirectoryPath, sample.Image);
    }

    /// <summary>
    /// Opens the package folder and checks it: manifest, model hash (streamed), golden files and their hashes, and the
    /// signature, reporting every problem found rather than the first.
    /// </summary>
    /// <exception cref="IOException">A file exists but cannot be read.</exception>
    public static async Task<PackageLoadResult> OpenAsync(string directory, PackageVerificationOptions options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);

        string root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            return PackageLoadResult.Failure(directory, PackageProblemKind.PackageNotFound, $"package folder {root} does not exist");
        }

        string manifestPath = Path.Combine(root, PackagePaths.ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            return PackageLoadResult.Failure(directory, PackageProblemKind.ManifestMissing, $"{root} has no {PackagePaths.ManifestFileName}");
        }

        byte[]? manifestBytes = await SmallFile.ReadAsync(manifestPath, ModelManifest.MaxSizeBytes, cancellationToken).ConfigureAwait(false);
        if (manifestBytes is null)
        {
            return PackageLoadResult.Failure(directory, PackageProblemKind.ManifestInvalid,
                $"{manifestPath} is larger than {ModelManifest.MaxSizeBytes} bytes; a manifest is a few kilobytes");
        }

        ManifestLoadResult loaded = ModelManifest.Parse(manifestBytes);
        if (!loaded.IsValid)
        {
            return PackageLoadResult.Failure(directory, loaded.Problems.Select(PackageProblem.FromManifest).ToList());
        }

        ModelManifest manifest = loaded.Manifest;
        List<PackageProblem> problems = [];
        await CheckModelFileAsync(root, manifest, problems, cancellationToken).ConfigureAwait(false);
        await CheckGoldenSamplesAsync(root, manifest, problems, cancellationToken).ConfigureAwait(false);
        (PackageSignatureState state, string? keyId) = await CheckSignatureAsync(root, manifestBytes, options, problems, cancellationToken)
            .ConfigureAwait(false);

        return problems.Count > 0
            ? PackageLoadResult.Failure(directory, problems)
            : PackageLoadResult.Success(directory, new ModelPackage(root, manifest, manifestBytes, state, keyId));
    }

    /// <summary>
    /// Reads the whole ONNX file and checks its SHA-256 against the manifest on the bytes read, so that what is
    /// loaded is what was verified even if the file changed since <see cref="OpenAsync"/>.
    /// </summary>
    /// <returns>The model bytes; the caller owns the array.</returns>
    /// <exception cref="ModelPackageException">The file no longer matches the manifest.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public async Task<byte[]> ReadVerifiedModelAsync(CancellationToken cancellationToken)
    {
        byte[] model = await File.ReadAllBytesAsync(ModelPath, cancellationToken).ConfigureAwait(false);
        string actual = Convert.ToHexStringLower(SHA256.HashData(model));
        if (!string.Equals(actual, Manifest.Model.Sha256, StringComparison.Ordinal))
        {
            throw new ModelPackageException(DirectoryPath, [HashMismatch(Manifest, actual)]);
        }

        return model;
    }

    /// <summary>
    /// Reads a golden sample image and checks its SHA-256 against the manifest on the bytes read, so the image judged is
    /// the image that was verified (and signed, through the manifest) even if the file changed since <see cref="OpenAsync"/>.
    /// </summary>
    /// <returns>The encoded image bytes; the caller owns the array.</returns>
    /// <exception cref="ArgumentException"><paramref name="sample"/> is not one of this package's golden samples.</exception>
    /// <exception cref="ModelPackageException">The file no longer matches the manifest.</exception>
    /// <exception cref="IOException">The file cannot be read (a missing file is a <see cref="FileNotFoundException"/>).</exception>
    public async Task<byte[]> ReadVerifiedGoldenSampleAsync(GoldenSampleSpec sample, CancellationToken cancellationToken)
    {
        byte[] image = await File.ReadAllBytesAsync(GetGoldenSamplePath(sample), cancellationToken).ConfigureAwait(false);
        string actual = Convert.ToHexStringLower(SHA256.HashData(image));
        if (!string.Equals(actual, sample.Sha256, StringComparison.Ordinal))
        {
            int index = Manifest.GoldenSamples!.ToList().IndexOf(sample);
            throw new ModelPackageException(DirectoryPath, [GoldenHashMismatch(sample, index, actual)]);
        }

        return image;
    }

    /// <summary>The same verified package after its folder was moved (atomic extraction renames the staging folder).</summary>
    internal ModelPackage MovedTo(string directoryPath) => new(directoryPath, Manifest, ManifestBytes.ToArray(), SignatureState, SignerKeyId);

    private static async Task CheckModelFileAsync(string root, ModelManifest manifest, List<PackageProblem> problems, CancellationToken cancellationToken)
    {
        string modelPath = PackagePaths.Resolve(root, manifest.Model.File);
        if (!File.Exists(modelPath))
        {
            problems.Add(new PackageProblem(PackageProblemKind.ModelFileMissing,
                $"{manifest.Model.File} (model.file in {PackagePaths.ManifestFileName}) is not in {root}"));
            return;
        }

        string actual = await Sha256File.ComputeAsync(modelPath, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(actual, manifest.Model.Sha256, StringComparison.Ordinal))
        {
            problems.Add(HashMismatch(manifest, actual));
        }
    }

    private static PackageProblem HashMismatch(ModelManifest manifest, string actual) =>
        new(PackageProblemKind.ModelHashMismatch,
            $"{manifest.Model.File} has SHA-256 {actual} but model.sha256 in {PackagePaths.ManifestFileName} is {manifest.Model.Sha256}: the model changed after the manifest was written (if that was intended, run `edge-models package DIR --update-hash` and sign again)");

    private static async Task CheckGoldenSamplesAsync(string root, ModelManifest manifest, List<PackageProblem> problems, CancellationToken cancellationToken)
    {
        int index = 0;
        foreach (GoldenSampleSpec sample in manifest.GoldenSamples ?? [])
        {
            string path = PackagePaths.Resolve(root, sample.Image);
            if (!File.Exists(path))
            {
                problems.Add(new PackageProblem(PackageProblemKind.GoldenSampleMissing,
                    $"{sample.Image} (goldenSamples[{index}].image in {PackagePaths.ManifestFileName}) is not in {root}"));
            }
            else
            {
                string actual = await Sha256File.ComputeAsync(path, cancellationToken).ConfigureAwait(false);
                if (!string.Equals(actual, sample.Sha256, StringComparison.Ordinal))
                {
                    problems.Add(GoldenHashMismatch(sample, index, actual));
                }
            }

            index++;
        }
    }

    private static PackageProblem GoldenHashMismatch(GoldenSampleSpec sample, int index, string actual) =>
        new(PackageProblemKind.GoldenSampleHashMismatch,
            $"{sample.Image} has SHA-256 {actual} but goldenSamples[{index}].sha256 in {PackagePaths.ManifestFileName} is {sample.Sha256}: the golden image changed after the manifest was written");

    private static async Task<(PackageSignatureState State, string? KeyId)> CheckSignatureAsync(
        string root, byte[] manifestBytes, PackageVerificationOptions options, List<PackageProblem> problems, CancellationToken cancellationToken)
    {
        string signaturePath = Path.Combine(root, PackagePaths.SignatureFileName);
        if (!File.Exists(signaturePath))
        {
            if (options.RequireSignature)
            {
                problems.Add(new PackageProblem(PackageProblemKind.SignatureMissing,
                    $"{root} has no {PackagePaths.SignatureFileName} and a signature is required (sign it with `edge-models sign DIR --key PRIVATE.pem`)"));
            }

            return (PackageSignatureState.Unsigned, null);
        }

        if (options.TrustedKeys is not { } trustedKeys)
        {
            return (PackageSignatureState.NotVerified, null);
        }

        byte[]? signature = await SmallFile.ReadAsync(signaturePath, ModelManifest.MaxSizeBytes, cancellationToken).ConfigureAwait(false);
        if (signature is null)
        {
            problems.Add(new PackageProblem(PackageProblemKind.SignatureMalformed,
                $"{PackagePaths.SignatureFileName} is larger than {ModelManifest.MaxSizeBytes} bytes"));
            return (PackageSignatureState.NotVerified, null);
        }

        if (!trustedKeys.TryVerify(manifestBytes, signature, out string? keyId, out PackageProblem? problem))
        {
            problems.Add(problem);
            return (PackageSignatureState.NotVerified, null);
        }

        return (PackageSignatureState.Verified, keyId);
    }
}
