using EdgeRuntime.ModelPackages.Archive;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.ModelPackages.Signing;

namespace EdgeRuntime.ModelPackages;

/// <summary>The outcome of <see cref="PackageAuthoring.UpdateModelHashAsync"/>.</summary>
/// <param name="Sha256">The model file's SHA-256, now in the manifest.</param>
/// <param name="ManifestChanged">False when the manifest already held this hash and was left untouched.</param>
/// <param name="SignatureRemoved">True when a manifest.sig was deleted because it signed the previous manifest.</param>
public sealed record ModelHashUpdate(string Sha256, bool ManifestChanged, bool SignatureRemoved);

/// <summary>The outcome of <see cref="PackageAuthoring.SetGoldenSamplesAsync"/>.</summary>
/// <param name="Samples">The golden samples now listed in the manifest, in file name order.</param>
/// <param name="SignatureRemoved">True when a manifest.sig was deleted because it signed the previous manifest.</param>
public sealed record GoldenSamplesUpdate(IReadOnlyList<GoldenSampleSpec> Samples, bool SignatureRemoved);

/// <summary>
/// Steps of building a package on a workstation: recording the model's hash and signing. Each writes files
/// atomically (a temporary file renamed over the old one), so an interrupted step leaves the old file intact.
/// </summary>
public static class PackageAuthoring
{
    /// <summary>
    /// Computes the SHA-256 of the model file named by <c>model.file</c> and writes it to <c>model.sha256</c>. A
    /// manifest.sig over the previous manifest no longer verifies and is deleted: sign again afterwards.
    /// </summary>
    /// <exception cref="ModelPackageException">The manifest is missing, not JSON, names no usable model file, or the file is missing.</exception>
    public static async Task<ModelHashUpdate> UpdateModelHashAsync(string packageDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(packageDirectory);
        string root = Path.GetFullPath(packageDirectory);
        string manifestPath = Path.Combine(root, PackagePaths.ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            throw Failure(root, PackageProblemKind.ManifestMissing, $"{root} has no {PackagePaths.ManifestFileName}");
        }

        byte[] manifest = await SmallFile.ReadAsync(manifestPath, ModelManifest.MaxSizeBytes, cancellationToken).ConfigureAwait(false)
            ?? throw Failure(root, PackageProblemKind.ManifestInvalid, $"{manifestPath} is larger than {ModelManifest.MaxSizeBytes} bytes");

        string? modelFile = ManifestEditor.TryGetModelFile(manifest);
        if (modelFile is null || !PackagePaths.IsPlainFileName(modelFile))
        {
            throw Failure(root, PackageProblemKind.ManifestInvalid,
                $"{PackagePaths.ManifestFileName}: model.file must name the ONNX file in the package folder before its hash can be recorded");
        }

        string modelPath = PackagePaths.Resolve(root, modelFile);
        if (!File.Exists(modelPath))
        {
            throw Failure(root, PackageProblemKind.ModelFileMissing, $"{modelFile} (model.file in {PackagePaths.ManifestFileName}) is not in {root}");
        }

        string sha256 = await Sha256File.ComputeAsync(modelPath, cancellationToken).ConfigureAwait(false);
        if (string.Equals(ManifestEditor.TryGetModelSha256(manifest), sha256, StringComparison.Ordinal))
        {
            return new ModelHashUpdate(sha256, ManifestChanged: false, SignatureRemoved: false);
        }

        await AtomicFile.WriteAsync(manifestPath, ManifestEditor.WithModelSha256(manifest, sha256), cancellationToken).ConfigureAwait(false);
        string signaturePath = Path.Combine(root, PackagePaths.SignatureFileName);
        bool signatureRemoved = File.Exists(signaturePath);
        File.Delete(signaturePath);
        return new ModelHashUpdate(sha256, ManifestChanged: true, signatureRemoved);
    }

    /// <summary>
    /// Verifies the package folder, signs its manifest.json with <paramref name="key"/>, writes manifest.sig and checks
    /// that the written signature verifies.
    /// </summary>
    /// <returns>The package re-opened with its new, verified signature, or the problems that prevented signing.</returns>
    public static async Task<PackageLoadResult> SignDirectoryAsync(string packageDirectory, PackageSigningKey key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(packageDirectory);
        ArgumentNullException.ThrowIfNull(key);

        PackageLoadResult opened = await ModelPackage.OpenAsync(packageDirectory, PackageVerificationOptions.NoSignatureCheck, cancellationToken)
            .ConfigureAwait(false);
        if (!opened.Succeeded)
        {
            return opened;
        }

        ManifestSignature signature = key.Sign(opened.Package.ManifestBytes.Span);
        await AtomicFile.WriteAsync(opened.Package.SignaturePath, signature.ToUtf8Json(), cancellationToken).ConfigureAwait(false);

        TrustedKeys self = TrustedKeys.FromPem([($"public key {key.KeyId}", key.ExportPublicKeyPem())]);
        return await ModelPackage.OpenAsync(packageDirectory, PackageVerificationOptions.RequireSignatureFrom(self), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Signs the package inside an archive: extracts it to a scratch folder, signs it there and writes the archive
    /// again over <paramref name="archivePath"/> (atomically; the rest of the archive is unchanged).
    /// </summary>
    /// <returns>An empty list when the archive was signed; otherwise the problems that prevented it.</returns>
    public static async Task<IReadOnlyList<PackageProblem>> SignArchiveAsync(string archivePath, PackageSigningKey key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        ArgumentNullException.ThrowIfNull(key);

        string scratch = Path.Combine(Path.GetTempPath(), $"edgepkg-sign-{Guid.NewGuid():N}");
        try
        {
            string folder = Path.Combine(scratch, "package");
            ArchiveExtractionOptions options = new() { Verification = PackageVerificationOptions.NoSignatureCheck };
            PackageLoadResult extracted = await PackageArchive.ExtractAsync(archivePath, folder, options, cancellationToken).ConfigureAwait(false);
            if (!extracted.Succeeded)
            {
                return extracted.Problems;
            }

            PackageLoadResult signed = await SignDirectoryAsync(folder, key, cancellationToken).ConfigureAwait(false);
            if (!signed.Succeeded)
            {
                return signed.Problems;
            }

            PackageLoadResult written = await PackageArchive.CreateAsync(folder, archivePath, cancellationToken).ConfigureAwait(false);
            return written.Problems;
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    /// <summary>
    /// Makes the images in <paramref name="imagesDirectory"/> the package's golden samples: copies each into
    /// <c>golden/</c>, records its SHA-256, and takes its expected verdict and defect classes from
    /// <paramref name="labelsPath"/>, a JSON Lines file with one object per image:
    /// <c>{"file": "0001.png", "verdict": "FAIL", "defects": [{"class": 1}, {"class": "blob"}]}</c> (other keys are ignored;
    /// <c>class</c> is a class index or name; without <c>defects</c> only the verdict is checked). The manifest's
    /// <c>goldenSamples</c> is replaced; a manifest.sig over the previous manifest is deleted: sign again afterwards.
    /// Nothing is written when any problem is found.
    /// </summary>
    /// <exception cref="ModelPackageException">Every problem found: an unreadable manifest, an image without a label, a
    /// label naming a class the model does not have, a verdict that contradicts the defects.</exception>
    public static async Task<GoldenSamplesUpdate> SetGoldenSamplesAsync(string packageDirectory, string imagesDirectory, string labelsPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(packageDirectory);
        ArgumentException.ThrowIfNullOrEmpty(imagesDirectory);
        ArgumentException.ThrowIfNullOrEmpty(labelsPath);
        string root = Path.GetFullPath(packageDirectory);
        string manifestPath = Path.Combine(root, PackagePaths.ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            throw Failure(root, PackageProblemKind.ManifestMissing, $"{root} has no {PackagePaths.ManifestFileName}");
        }

        byte[] manifestBytes = await SmallFile.ReadAsync(manifestPath, ModelManifest.MaxSizeBytes, cancellationToken).ConfigureAwait(false)
            ?? throw Failure(root, PackageProblemKind.ManifestInvalid, $"{manifestPath} is larger than {ModelManifest.MaxSizeBytes} bytes");
        ManifestLoadResult parsed = ModelManifest.Parse(manifestBytes);
        if (!parsed.IsValid)
        {
            throw new ModelPackageException(root, parsed.Problems.Select(PackageProblem.FromManifest).ToList());
        }

        List<PackageProblem> problems = [];
        Dictionary<string, GoldenLabel> labels = await GoldenLabel.ReadAllAsync(labelsPath, parsed.Manifest, problems, cancellationToken).ConfigureAwait(false);
        List<(string Source, GoldenLabel Label)> images = [];
        foreach (string image in Directory.EnumerateFiles(imagesDirectory).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(image);
            if (!GoldenLabel.IsImage(name))
            {
                continue;
            }

            if (!PackagePaths.IsGoldenImagePath($"{PackagePaths.GoldenFolderName}/{name}"))
            {
                problems.Add(new PackageProblem(PackageProblemKind.GoldenLabelsInvalid, $"{image}: the file name cannot be a golden sample: {PackagePaths.GoldenImageRule}"));
            }
            else if (!labels.TryGetValue(name, out GoldenLabel? label))
            {
                problems.Add(new PackageProblem(PackageProblemKind.GoldenLabelsInvalid, $"{image} has no line in {labelsPath}: every golden image needs its expected verdict"));
            }
            else
            {
                images.Add((image, label));
            }
        }

        if (images.Count == 0 && problems.Count == 0)
        {
            problems.Add(new PackageProblem(PackageProblemKind.GoldenSampleMissing, $"{imagesDirectory} holds no PNG, JPEG or BMP image"));
        }

        if (problems.Count > 0)
        {
            throw new ModelPackageException(root, problems);
        }

        List<GoldenSampleSpec> samples = [];
        foreach ((string source, GoldenLabel label) in images)
        {
            byte[] bytes = await File.ReadAllBytesAsync(source, cancellationToken).ConfigureAwait(false);
            string relative = $"{PackagePaths.GoldenFolderName}/{Path.GetFileName(source)}";
            await AtomicFile.WriteAsync(PackagePaths.Resolve(root, relative), bytes, cancellationToken).ConfigureAwait(false);
            samples.Add(new GoldenSampleSpec
            {
                Image = relative,
                Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
                Verdict = label.Verdict,
                Classes = label.Classes,
            });
        }

        await AtomicFile.WriteAsync(manifestPath, ManifestEditor.WithGoldenSamples(manifestBytes, samples), cancellationToken).ConfigureAwait(false);
        string signaturePath = Path.Combine(root, PackagePaths.SignatureFileName);
        bool signatureRemoved = File.Exists(signaturePath);
        File.Delete(signaturePath);
        return new GoldenSamplesUpdate(samples, signatureRemoved);
    }

    private static ModelPackageException Failure(string subject, PackageProblemKind kind, string message) =>
        new(subject, [new PackageProblem(kind, message)]);
}
