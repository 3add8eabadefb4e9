namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>Reading manifest-sized files without trusting their size.</summary>
internal static class ManifestFile
{
    /// <summary>The file's bytes, or null when it is larger than <see cref="ModelManifest.MaxSizeBytes"/>.</summary>
    public static async Task<byte[]?> ReadBoundedAsync(string path, CancellationToken cancellationToken)
    {
        FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            if (stream.Length > ModelManifest.MaxSizeBytes)
            {
                return null;
            }

            byte[] bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            return bytes;
        }
    }
}
