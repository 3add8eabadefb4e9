namespace EdgeRuntime.Vision.Imaging;

/// <summary>
/// The image files of a folder (replay, inspection, evaluation, calibration): the one place that decides which
/// files count as images and in what order they come.
/// </summary>
public static class ImageFolder
{
    public const string Describe = "PNG, JPEG or BMP images (*.png, *.jpg, *.jpeg, *.bmp)";

    private static readonly string[] s_extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    /// <summary>Image files directly in <paramref name="directory"/>, in ordinal order of their names.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static string[] List(string directory)
    {
        var files = new List<string>();
        foreach (string path in Directory.EnumerateFiles(directory))
        {
            if (IsImage(path))
            {
                files.Add(path);
            }
        }

        // Ordinal, not culture order: frame order must not depend on the machine's locale.
        files.Sort(static (a, b) => string.CompareOrdinal(Path.GetFileName(a), Path.GetFileName(b)));
        return [.. files];
    }

    /// <summary>Why <paramref name="directory"/> cannot be replayed, or null when it can.</summary>
    public static string? Problem(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return "the folder does not exist (" + Path.GetFullPath(directory) + "); it must hold " + Describe;
        }

        try
        {
            foreach (string path in Directory.EnumerateFiles(directory))
            {
                if (IsImage(path))
                {
                    return null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "the folder cannot be read (" + ex.Message + ")";
        }

        return "the folder holds no images; it must hold " + Describe;
    }

    /// <summary>Whether the file name has an image extension this service decodes.</summary>
    public static bool IsImage(string path)
    {
        ReadOnlySpan<char> extension = Path.GetExtension(path.AsSpan());
        foreach (string candidate in s_extensions)
        {
            if (extension.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
