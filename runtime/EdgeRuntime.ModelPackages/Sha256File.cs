using System.Security.Cryptography;

namespace EdgeRuntime.ModelPackages;

/// <summary>SHA-256 of files too large to hold in memory (model files run to hundreds of megabytes).</summary>
public static class Sha256File
{
    private const int BufferSize = 1024 * 1024;

    /// <summary>Streams the file through SHA-256 and returns the digest as 64 lowercase hex digits.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static async Task<string> ComputeAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            byte[] digest = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            return Convert.ToHexStringLower(digest);
        }
    }
}
