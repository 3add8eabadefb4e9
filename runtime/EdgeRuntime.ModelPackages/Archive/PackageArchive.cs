using System.Buffers;
using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;

namespace EdgeRuntime.ModelPackages.Archive;

/// <summary>
/// The single-file form of a model package, <c>&lt;id&gt;-&lt;version&gt;.edgepkg</c>: a gzip-compressed ustar
/// archive of the package's files (manifest.json, the ONNX file, manifest.sig if present, golden/ images) at its root.
/// </summary>
/// <remarks>
/// Creation is deterministic: entries in ordinal name order, fixed time stamps, owner and mode, so the same package
/// gives the same bytes. Extraction never trusts the archive: it refuses links, absolute and '..' paths, duplicates,
/// entries the manifest does not name and oversize content, unpacks into a staging folder beside the destination,
/// verifies the package there and only then renames it into place, so a refused archive leaves nothing behind.
/// Methods are safe to call concurrently for different files.
/// </remarks>
public static class PackageArchive
{
    private const int CopyBufferSize = 1024 * 1024;

    // RFC 1952: a 10-byte header, at least an empty deflate block, then CRC32 and ISIZE (uncompressed size mod 2^32).
    private const int GzipTrailerSize = 8;
    private const int MinimumGzipSize = 20;
    private const UnixFileMode EntryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Verifies the package folder and writes it as an archive, replacing <paramref name="archivePath"/> atomically.</summary>
    /// <returns>The verified source package, or the problems that kept it from being archived.</returns>
    /// <exception cref="IOException">A file cannot be read or the archive cannot be written.</exception>
    public static async Task<PackageLoadResult> CreateAsync(string packageDirectory, string archivePath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(packageDirectory);
        ArgumentException.ThrowIfNullOrEmpty(archivePath);

        PackageLoadResult opened = await ModelPackage.OpenAsync(packageDirectory, PackageVerificationOptions.NoSignatureCheck, cancellationToken)
            .ConfigureAwait(false);
        if (!opened.Succeeded)
        {
            return opened;
        }

        await CreateAsync(opened.Package, archivePath, cancellationToken).ConfigureAwait(false);
        return opened;
    }

    /// <summary>
    /// Writes an already verified package as an archive, replacing <paramref name="archivePath"/> atomically. The
    /// manifest is written from <see cref="ModelPackage.ManifestBytes"/>; other files are read from the folder now.
    /// </summary>
    /// <exception cref="IOException">A file cannot be read or the archive cannot be written.</exception>
    public static async Task CreateAsync(ModelPackage package, string archivePath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentException.ThrowIfNullOrEmpty(archivePath);

        await AtomicFile.WriteAsync(archivePath, (file, token) => WriteArchiveAsync(package, file, token), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Extracts and verifies an archive into <paramref name="destinationDirectory"/>, which must not exist yet. The
    /// folder appears, complete and verified, or not at all.
    /// </summary>
    /// <returns>The extracted package, or every problem that caused the archive to be refused.</returns>
    /// <exception cref="IOException">The file system failed (disk full, permissions), not the archive.</exception>
    public static async Task<PackageLoadResult> ExtractAsync(
        string archivePath, string destinationDirectory, ArchiveExtractionOptions options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(archivePath);
        ArgumentException.ThrowIfNullOrEmpty(destinationDirectory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        if (!File.Exists(archivePath))
        {
            return PackageLoadResult.Failure(archivePath, PackageProblemKind.PackageNotFound, $"archive {archivePath} does not exist");
        }

        string destination = Path.GetFullPath(destinationDirectory);
        if (Directory.Exists(destination) || File.Exists(destination))
        {
            return PackageLoadResult.Failure(archivePath, PackageProblemKind.DestinationExists,
                $"{destination} already exists; extract into a new folder (a package is replaced by switching folders, never in place)");
        }

        string parent = Path.GetDirectoryName(destination)
            ?? throw new ArgumentException($"{destinationDirectory} has no parent folder.", nameof(destinationDirectory));
        Directory.CreateDirectory(parent);

        // A sibling of the destination, so the final rename stays on one file system and is atomic.
        string staging = Path.Combine(parent, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.partial");
        Directory.CreateDirectory(staging);
        bool moved = false;
        try
        {
            UnpackResult unpacked = await UnpackAsync(archivePath, staging, options, cancellationToken).ConfigureAwait(false);
            if (unpacked.Problem is { } problem)
            {
                return PackageLoadResult.Failure(archivePath, [problem]);
            }

            PackageLoadResult opened = await ModelPackage.OpenAsync(staging, options.Verification, cancellationToken).ConfigureAwait(false);
            if (!opened.Succeeded)
            {
                return PackageLoadResult.Failure(archivePath, opened.Problems.Select(p => p with { Message = Relabel(p.Message, staging, archivePath) }).ToList());
            }

            List<PackageProblem> unexpected = unpacked.Entries
                .Except(opened.Package.RelativeFiles, StringComparer.Ordinal)
                .Select(name => new PackageProblem(PackageProblemKind.ArchiveUnexpectedEntry,
                    $"{archivePath} holds '{name}', which the manifest does not name (a package holds manifest.json, manifest.sig, the model file and its listed golden samples)"))
                .ToList();
            if (unexpected.Count > 0)
            {
                return PackageLoadResult.Failure(archivePath, unexpected);
            }

            try
            {
                Directory.Move(staging, destination);
            }
            catch (IOException) when (Directory.Exists(destination) || File.Exists(destination))
            {
                return PackageLoadResult.Failure(archivePath, PackageProblemKind.DestinationExists,
                    $"{destination} was created by someone else while the archive was being extracted");
            }

            moved = true;
            return PackageLoadResult.Success(archivePath, opened.Package.MovedTo(destination));
        }
        finally
        {
            if (!moved)
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static async Task WriteArchiveAsync(ModelPackage package, FileStream file, CancellationToken cancellationToken)
    {
        GZipStream gzip = new(file, CompressionLevel.Optimal, leaveOpen: true);
        await using (gzip.ConfigureAwait(false))
        {
            TarWriter writer = new(gzip, TarEntryFormat.Ustar, leaveOpen: true);
            await using (writer.ConfigureAwait(false))
            {
                foreach (string name in package.RelativeFiles)
                {
                    await WriteEntryAsync(writer, package, name, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task WriteEntryAsync(TarWriter writer, ModelPackage package, string name, CancellationToken cancellationToken)
    {
        UstarTarEntry entry = new(TarEntryType.RegularFile, name)
        {
            ModificationTime = DateTimeOffset.UnixEpoch,
            Mode = EntryMode,
            Uid = 0,
            Gid = 0,
            UserName = string.Empty,
            GroupName = string.Empty,
        };

        // The manifest is written from the bytes that were validated, not re-read from a file that may have changed.
        Stream data = string.Equals(name, PackagePaths.ManifestFileName, StringComparison.Ordinal)
            ? new MemoryStream(package.ManifestBytes.ToArray(), writable: false)
            : new FileStream(PackagePaths.Resolve(package.DirectoryPath, name), FileMode.Open, FileAccess.Read, FileShare.Read,
                CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (data.ConfigureAwait(false))
        {
            entry.DataStream = data;
            await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<UnpackResult> UnpackAsync(string archivePath, string staging, ArchiveExtractionOptions options, CancellationToken cancellationToken)
    {
        string archiveName = Path.GetFileName(archivePath);
        FileStream file = new(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            long compressedLength = file.Length;
            GZipStream gzip = new(file, CompressionMode.Decompress, leaveOpen: true);
            await using (gzip.ConfigureAwait(false))
            {
                CountingGzipStream payload = new(gzip, options.MaxTotalBytes);
                TarReader reader = new(payload, leaveOpen: true);
                await using (reader.ConfigureAwait(false))
                {
                    List<string> entries = [];
                    try
                    {
                        PackageProblem? problem = await ReadEntriesAsync(reader, staging, archiveName, options, entries, cancellationToken)
                            .ConfigureAwait(false);
                        problem ??= await CheckEndAsync(payload, file, compressedLength, archiveName, cancellationToken).ConfigureAwait(false);
                        return new UnpackResult(entries, problem);
                    }
                    catch (GzipCorruptException ex)
                    {
                        return Refused(PackageProblemKind.ArchiveCorrupt,
                            $"{archiveName}: gzip stream corrupt after {ex.UncompressedOffset} decompressed bytes (damaged in transfer, or not an .edgepkg)");
                    }
                    catch (PayloadTooLargeException)
                    {
                        return Refused(PackageProblemKind.ArchiveTooLarge,
                            $"{archiveName} unpacks to more than {options.MaxTotalBytes} bytes, the configured limit");
                    }
                    catch (EndOfStreamException)
                    {
                        return Refused(PackageProblemKind.ArchiveTruncated,
                            $"{archiveName} is truncated at byte {compressedLength}: the archive ends before its end-of-archive marker (an interrupted copy or download?)");
                    }
                    catch (Exception ex) when (ex is InvalidDataException or FormatException)
                    {
                        return Refused(PackageProblemKind.ArchiveCorrupt,
                            $"{archiveName}: not a valid tar archive at offset {payload.BytesRead} of the decompressed data: {ex.Message}");
                    }
                }
            }
        }
    }

    private static async Task<PackageProblem?> ReadEntriesAsync(
        TarReader reader, string staging, string archiveName, ArchiveExtractionOptions options, List<string> entries, CancellationToken cancellationToken)
    {
        HashSet<string> seen = new(StringComparer.Ordinal);
        long fileBytes = 0;
        int count = 0;
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (++count > options.MaxEntries)
            {
                return new PackageProblem(PackageProblemKind.ArchiveTooLarge, $"{archiveName} has more than {options.MaxEntries} entries, the configured limit");
            }

            // `tar -czf x.edgepkg -C folder .` writes "./name"; the prefix adds nothing.
            string name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            if (CheckEntry(entry, name, archiveName) is { } refused)
            {
                return refused;
            }

            if (entry.EntryType == TarEntryType.Directory)
            {
                continue;
            }

            if (!seen.Add(name))
            {
                return new PackageProblem(PackageProblemKind.ArchiveDuplicateEntry,
                    $"{archiveName} holds '{name}' twice; which copy counts would depend on the tool, so the archive is refused");
            }

            if (entry.Length > options.MaxTotalBytes - fileBytes)
            {
                return new PackageProblem(PackageProblemKind.ArchiveTooLarge,
                    $"{archiveName}: entry '{name}' ({entry.Length} bytes) takes the package over {options.MaxTotalBytes} bytes, the configured limit");
            }

            fileBytes += entry.Length;
            entries.Add(name);
            if (!await WriteEntryFileAsync(entry, PackagePaths.Resolve(staging, name), cancellationToken).ConfigureAwait(false))
            {
                throw new EndOfStreamException();
            }
        }

        return null;
    }

    private static PackageProblem? CheckEntry(TarEntry entry, string name, string archiveName)
    {
        bool unsafeName = name.Length == 0
            || name[0] == '/'
            || name.Contains('\\', StringComparison.Ordinal)
            || name.Contains(':', StringComparison.Ordinal)
            || name.Split('/').Any(segment => segment is ".." or ".");
        if (entry.EntryType is TarEntryType.Directory)
        {
            string folder = name.TrimEnd('/');
            return folder is "" or "." or PackagePaths.GoldenFolderName
                ? null
                : new PackageProblem(unsafeName ? PackageProblemKind.ArchiveUnsafeEntry : PackageProblemKind.ArchiveUnexpectedEntry,
                    $"{archiveName} holds folder '{entry.Name}'; a package has no folders but '{PackagePaths.GoldenFolderName}/'");
        }

        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
        {
            string link = string.IsNullOrEmpty(entry.LinkName) ? string.Empty : $" -> '{entry.LinkName}'";
            return new PackageProblem(PackageProblemKind.ArchiveUnsafeEntry,
                $"{archiveName} holds '{entry.Name}'{link} of type {entry.EntryType}; a package holds regular files only");
        }

        if (unsafeName)
        {
            return new PackageProblem(PackageProblemKind.ArchiveUnsafeEntry,
                $"{archiveName} holds '{entry.Name}', a path that could leave the package folder (absolute, '..', '\\' or ':'); refused");
        }

        return PackagePaths.IsPlainFileName(name) || PackagePaths.IsGoldenImagePath(name)
            ? null
            : new PackageProblem(PackageProblemKind.ArchiveUnexpectedEntry,
                $"{archiveName} holds '{entry.Name}'; a package holds files at its root and in '{PackagePaths.GoldenFolderName}/' only");
    }

    /// <returns>False when the entry's data ended early.</returns>
    private static async Task<bool> WriteEntryFileAsync(TarEntry entry, string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        FileStream target = new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, FileOptions.Asynchronous);
        await using (target.ConfigureAwait(false))
        {
            if (entry.DataStream is null)
            {
                return entry.Length == 0;
            }

            byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                long remaining = entry.Length;
                while (remaining > 0)
                {
                    int read = await entry.DataStream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken)
                        .ConfigureAwait(false);
                    if (read == 0)
                    {
                        return false;
                    }

                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    remaining -= read;
                }

                return true;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// After the tar end marker: the rest of the gzip stream must be zero padding, and the gzip trailer must end the
    /// file. zlib checks the trailer's CRC when it is there but accepts a file cut inside the trailer, so its size
    /// field is compared here.
    /// </summary>
    private static async Task<PackageProblem?> CheckEndAsync(
        CountingGzipStream payload, FileStream file, long compressedLength, string archiveName, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await payload.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.AsSpan(0, read).ContainsAnyExcept((byte)0))
                {
                    return new PackageProblem(PackageProblemKind.ArchiveCorrupt, $"{archiveName} has data after the end of its tar archive");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        byte[] trailer = new byte[GzipTrailerSize];
        if (compressedLength >= MinimumGzipSize)
        {
            file.Seek(-GzipTrailerSize, SeekOrigin.End);
            await file.ReadExactlyAsync(trailer, cancellationToken).ConfigureAwait(false);
        }

        uint expectedSize = unchecked((uint)payload.BytesRead);
        if (compressedLength < MinimumGzipSize || BinaryPrimitives.ReadUInt32LittleEndian(trailer.AsSpan(4)) != expectedSize)
        {
            return new PackageProblem(PackageProblemKind.ArchiveTruncated,
                $"{archiveName} is truncated at byte {compressedLength}, or has bytes appended: its gzip trailer does not end the file");
        }

        return null;
    }

    private static UnpackResult Refused(PackageProblemKind kind, string message) => new([], new PackageProblem(kind, message));

    private static string Relabel(string message, string staging, string archivePath) =>
        message.Replace(staging, archivePath, StringComparison.Ordinal);

    private sealed record UnpackResult(IReadOnlyList<string> Entries, PackageProblem? Problem);

    private sealed class GzipCorruptException(long uncompressedOffset, Exception innerException)
        : Exception("gzip stream corrupt", innerException)
    {
        public long UncompressedOffset { get; } = uncompressedOffset;
    }

    private sealed class PayloadTooLargeException() : Exception("archive payload exceeds the limit");

    /// <summary>
    /// Read-only view of the decompressed stream that counts bytes (the tar offset, the gzip size check, the
    /// size limit against compression bombs) and tells gzip damage apart from tar damage.
    /// </summary>
    private sealed class CountingGzipStream(GZipStream inner, long maxTotalBytes) : Stream
    {
        // Tar headers and padding count too; allow them on top of the file-data limit.
        private readonly long _limit = maxTotalBytes + (1024L * 1024L);

        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read;
            try
            {
                read = inner.Read(buffer);
            }
            catch (InvalidDataException ex)
            {
                throw new GzipCorruptException(BytesRead, ex);
            }

            return Count(read);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read;
            try
            {
                read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                throw new GzipCorruptException(BytesRead, ex);
            }

            return Count(read);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            BytesRead += read;
            if (BytesRead > _limit)
            {
                throw new PayloadTooLargeException();
            }

            return read;
        }
    }
}
