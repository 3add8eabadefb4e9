namespace EdgeRuntime.ModelPackages;

/// <summary>
/// Replaces a file by writing a temporary sibling and renaming it over the target: readers see the old file or the
/// complete new one, and an interrupted write leaves the old file intact. Shared by everything that rewrites a file in
/// place (model packages, the service's configuration file).
/// </summary>
public static class AtomicFile
{
    private const int BufferSize = 1024 * 1024;

    public static async Task WriteAsync(string path, Func<FileStream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        string target = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(target) ?? throw new ArgumentException($"{path} has no parent folder.", nameof(path));
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            FileStream stream = new(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

                // What is renamed into place must be on disk first, or a power cut can leave an empty file behind.
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="contents"/>, synchronously (small files, callers without an async path); the new file keeps the old one's permissions.</summary>
    /// <exception cref="IOException">The folder cannot be written; the old file is left as it was.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable by this process; the old file is left as it was.</exception>
    public static void Write(string path, ReadOnlySpan<byte> contents)
    {
        string target = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(target) ?? throw new ArgumentException($"{path} has no parent folder.", nameof(path));
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
            {
                stream.Write(contents);

                // What is renamed into place must be on disk first, or a power cut can leave an empty file behind.
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows() && File.Exists(target))
            {
                // The replacement keeps the permissions of the file it replaces (a config may be readable by its group only).
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(target));
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public static Task WriteAsync(string path, byte[] contents, CancellationToken cancellationToken) =>
        WriteAsync(path, (stream, token) => stream.WriteAsync(contents, token).AsTask(), cancellationToken);
}
