namespace EdgeRuntime.ModelPackages;

/// <summary>File names inside a model package folder and the rules every package-relative name obeys.</summary>
public static class PackagePaths
{
    /// <summary>The manifest, at the package root.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>The detached signature over the manifest's bytes, at the package root.</summary>
    public const string SignatureFileName = "manifest.sig";

    /// <summary>The folder holding golden sample images.</summary>
    public const string GoldenFolderName = "golden";

    /// <summary>File name extension of the single-file package archive.</summary>
    public const string ArchiveExtension = ".edgepkg";

    /// <summary>
    /// Longest package-relative name: the tar "ustar" name field, so that every name fits one header without
    /// format extensions that differ between tools.
    /// </summary>
    public const int MaxRelativeNameLength = 100;

    internal const string PlainFileNameRule =
        "must be a plain file name in the package folder (no '/', '\\', ':' or control characters, not '.' or '..', at most 100 characters)";

    internal const string GoldenImageRule = "must be 'golden/<plain file name>' (no further folders, no '..', at most 100 characters)";

    /// <summary>
    /// True when <paramref name="name"/> names a file directly in the package folder: no separators, drive or
    /// parent references, so joining it to the folder can never leave the folder.
    /// </summary>
    public static bool IsPlainFileName(string name)
    {
        if (name.Length is 0 or > MaxRelativeNameLength || name is "." or "..")
        {
            return false;
        }

        if (char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is '/' or '\\' or ':' || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="relativePath"/> is <c>golden/&lt;plain file name&gt;</c>.</summary>
    public static bool IsGoldenImagePath(string relativePath)
    {
        string prefix = GoldenFolderName + "/";
        return relativePath.Length <= MaxRelativeNameLength
            && relativePath.StartsWith(prefix, StringComparison.Ordinal)
            && IsPlainFileName(relativePath[prefix.Length..]);
    }

    /// <summary>The conventional archive file name, <c>&lt;id&gt;-&lt;version&gt;.edgepkg</c>.</summary>
    public static string ArchiveFileName(Manifest.ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return $"{manifest.Id}-{manifest.Version}{ArchiveExtension}";
    }

    /// <summary>
    /// Joins a package-relative name already checked by <see cref="IsPlainFileName"/> or
    /// <see cref="IsGoldenImagePath"/> onto the package folder.
    /// </summary>
    internal static string Resolve(string packageDirectory, string relativeName) =>
        Path.Combine(packageDirectory, relativeName.Replace('/', Path.DirectorySeparatorChar));
}
