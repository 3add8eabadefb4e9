namespace EdgeRuntime.ModelPackages;

/// <summary>What kind of thing is wrong with a package; each kind has its own remedy.</summary>
public enum PackageProblemKind
{
    /// <summary>The package folder or archive does not exist.</summary>
    PackageNotFound,

    /// <summary>The package has no manifest.json.</summary>
    ManifestMissing,

    /// <summary>manifest.json is not valid JSON or breaks a schema rule.</summary>
    ManifestInvalid,

    /// <summary>The ONNX file named by the manifest is not in the package.</summary>
    ModelFileMissing,

    /// <summary>The ONNX file's SHA-256 differs from the manifest's: the model changed after the manifest was written.</summary>
    ModelHashMismatch,

    /// <summary>A golden sample image listed by the manifest is not in the package.</summary>
    GoldenSampleMissing,

    /// <summary>A golden sample image's SHA-256 differs from the manifest's: the image changed after the manifest was written.</summary>
    GoldenSampleHashMismatch,

    /// <summary>
    /// Golden samples cannot be set from the images and labels given: an image without a label line, a line without a
    /// usable verdict, a class the model does not have, a verdict that contradicts the defects.
    /// </summary>
    GoldenLabelsInvalid,

    /// <summary>A signature is required and the package has no manifest.sig.</summary>
    SignatureMissing,

    /// <summary>manifest.sig is not a well-formed signature document.</summary>
    SignatureMalformed,

    /// <summary>manifest.sig was made with a key that is not among the trusted keys.</summary>
    SignatureKeyUntrusted,

    /// <summary>
    /// The signature does not verify over manifest.json with the trusted key it names: the manifest was edited after
    /// signing, or the signature bytes were altered.
    /// </summary>
    SignatureInvalid,

    /// <summary>A trusted public key file cannot be used.</summary>
    TrustedKeyInvalid,

    /// <summary>A private signing key file cannot be used.</summary>
    SigningKeyInvalid,

    /// <summary>The archive's gzip or tar structure is damaged.</summary>
    ArchiveCorrupt,

    /// <summary>The archive ends before its end: an interrupted copy or download.</summary>
    ArchiveTruncated,

    /// <summary>An archive entry could escape the destination folder or is not a regular file (links, devices, absolute or '..' paths).</summary>
    ArchiveUnsafeEntry,

    /// <summary>An archive entry appears twice.</summary>
    ArchiveDuplicateEntry,

    /// <summary>An archive entry is not part of the package the manifest describes.</summary>
    ArchiveUnexpectedEntry,

    /// <summary>The archive exceeds the configured size or entry-count limit.</summary>
    ArchiveTooLarge,

    /// <summary>The extraction destination already exists.</summary>
    DestinationExists,

    /// <summary>The ONNX graph cannot be loaded or disagrees with the manifest (names, types, shapes).</summary>
    GraphMismatch,
}

/// <summary>One thing wrong with a model package, with a message that names the file and what to do.</summary>
public sealed record PackageProblem(PackageProblemKind Kind, string Message)
{
    /// <summary>A manifest problem as a package problem of kind <see cref="PackageProblemKind.ManifestInvalid"/>.</summary>
    public static PackageProblem FromManifest(Manifest.ManifestProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return new PackageProblem(PackageProblemKind.ManifestInvalid, $"{PackagePaths.ManifestFileName}: {problem}");
    }

    public override string ToString() => Message;
}
