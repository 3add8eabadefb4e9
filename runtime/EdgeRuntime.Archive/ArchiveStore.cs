using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using OpenCvSharp;

namespace EdgeRuntime.Archive;

/// <summary>
/// The archive folder: PNG + JSON pairs named by sequence number, written through a temporary file and a rename so
/// no reader (and no power cut) ever sees half a file, and kept under a byte quota by deleting the oldest pairs
/// first. The folder is scanned when the store opens, so the quota holds across restarts. Used by one thread.
/// </summary>
internal sealed partial class ArchiveStore
{
    public const int SchemaVersion = 1;

    private const string TempSuffix = ".tmp";

    private static readonly ImageEncodingParam[] s_pngParameters = [new(ImwriteFlags.PngCompression, 3)];

    // Oldest first; the index finds an entry when a sequence number is written again (a state directory was reset).
    private readonly LinkedList<Entry> _entries = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _byName = new(StringComparer.Ordinal);
    private readonly string _directory;
    private readonly long _quotaBytes;
    private long _usedBytes;
    private long _deleted;

    private ArchiveStore(string directory, long quotaBytes)
    {
        _directory = directory;
        _quotaBytes = quotaBytes;
    }

    public string Directory => _directory;

    public long UsedBytes => Interlocked.Read(ref _usedBytes);

    public long Deleted => Interlocked.Read(ref _deleted);

    public int Count => _entries.Count;

    /// <summary>Creates the folder if needed, removes temporary files a crash left behind, and counts what is there.</summary>
    /// <exception cref="IOException">The folder cannot be created or read.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be created or read.</exception>
    public static ArchiveStore Open(string directory, long quotaBytes, out int staleTempFiles)
    {
        System.IO.Directory.CreateDirectory(directory);
        var store = new ArchiveStore(directory, quotaBytes);
        staleTempFiles = store.Scan();
        return store;
    }

    /// <summary>Writes one entry, deleting the oldest first as far as the quota requires.</summary>
    /// <returns>False when the entry alone is larger than the quota (nothing is written or deleted).</returns>
    /// <exception cref="IOException">A file could not be written or deleted.</exception>
    /// <exception cref="OpenCVException">The image could not be encoded.</exception>
    public bool Write(ArchiveItem item, DateTimeOffset archivedUtc, out long entryBytes)
    {
        InspectionResult result = item.Result;
        string baseName = BaseName(result.Sequence, result.Verdict);
        byte[] png = EncodePng(item);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(ToRecord(item, baseName + ".png", archivedUtc), ArchiveJsonContext.Default.ArchiveRecord);
        entryBytes = png.LongLength + json.LongLength;
        if (entryBytes > _quotaBytes)
        {
            return false;
        }

        if (_byName.TryGetValue(baseName, out LinkedListNode<Entry>? same))
        {
            Delete(same);
        }

        while (_usedBytes + entryBytes > _quotaBytes && _entries.First is { } oldest)
        {
            Delete(oldest);
        }

        string pngPath = Path.Combine(_directory, baseName + ".png");
        string jsonPath = Path.Combine(_directory, baseName + ".json");

        // Image first: a sidecar never points at a missing image.
        WriteAtomically(pngPath, png);
        try
        {
            WriteAtomically(jsonPath, json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An image the index does not know would escape the quota until the next restart.
            File.Delete(pngPath);
            throw;
        }
        _byName[baseName] = _entries.AddLast(new Entry(baseName, entryBytes));
        Interlocked.Add(ref _usedBytes, entryBytes);
        return true;
    }

    public static string BaseName(long sequence, Verdict verdict) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence:D12}-{(verdict == Verdict.Fail ? "fail" : "pass")}");

    private int Scan()
    {
        var found = new Dictionary<string, (long Bytes, DateTime Oldest)>(StringComparer.Ordinal);
        int stale = 0;
        foreach (string path in System.IO.Directory.EnumerateFiles(_directory))
        {
            string fileName = Path.GetFileName(path);
            if (fileName.EndsWith(TempSuffix, StringComparison.Ordinal) && EntryFile().IsMatch(fileName[..^TempSuffix.Length]))
            {
                File.Delete(path);
                stale++;
                continue;
            }

            Match match = EntryFile().Match(fileName);
            if (!match.Success)
            {
                continue;
            }

            var info = new FileInfo(path);
            string baseName = match.Groups["base"].Value;
            (long bytes, DateTime oldest) = found.TryGetValue(baseName, out var seen) ? seen : (0, DateTime.MaxValue);
            found[baseName] = (bytes + info.Length, info.LastWriteTimeUtc < oldest ? info.LastWriteTimeUtc : oldest);
        }

        // Age, not sequence number, decides what goes first: sequence numbers restart if the state folder is lost.
        var ordered = new List<(string Name, long Bytes, DateTime Oldest)>(found.Count);
        foreach ((string name, (long bytes, DateTime oldest)) in found)
        {
            ordered.Add((name, bytes, oldest));
        }

        ordered.Sort(static (a, b) => a.Oldest != b.Oldest ? a.Oldest.CompareTo(b.Oldest) : string.CompareOrdinal(a.Name, b.Name));
        foreach ((string name, long bytes, _) in ordered)
        {
            _byName[name] = _entries.AddLast(new Entry(name, bytes));
            _usedBytes += bytes;
        }

        return stale;
    }

    private void Delete(LinkedListNode<Entry> node)
    {
        Entry entry = node.Value;

        // Sidecar first: a PNG without its sidecar is recognisable as an entry being removed, the opposite is not.
        File.Delete(Path.Combine(_directory, entry.BaseName + ".json"));
        File.Delete(Path.Combine(_directory, entry.BaseName + ".png"));
        _entries.Remove(node);
        _byName.Remove(entry.BaseName);
        Interlocked.Add(ref _usedBytes, -entry.Bytes);
        Interlocked.Increment(ref _deleted);
    }

    private static byte[] EncodePng(ArchiveItem item)
    {
        MatType type = item.Format == PixelFormat.Gray8 ? MatType.CV_8UC1 : MatType.CV_8UC3;

        // The Mat pins the pooled buffer for its lifetime; nothing is copied before encoding.
        using Mat image = Mat.FromPixelData(item.Height, item.Width, type, item.Pixels);
        using InputArray input = InputArray.Create(image);
        Cv2.ImEncode(".png", input, out byte[] png, s_pngParameters);
        if (png.Length == 0)
        {
            throw new IOException($"PNG encoding of seq {item.Result.Sequence} ({item.Width}x{item.Height} {item.Format}) failed");
        }

        return png;
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> data)
    {
        string temp = path + TempSuffix;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1))
        {
            stream.Write(data);

            // On disk before the rename, so a power cut leaves the old state or the new one, never a truncated file.
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static ArchiveRecord ToRecord(ArchiveItem item, string imageFile, DateTimeOffset archivedUtc)
    {
        InspectionResult result = item.Result;
        var defects = new ArchiveDefect[result.Defects.Count];
        for (int i = 0; i < defects.Length; i++)
        {
            Defect d = result.Defects[i];
            defects[i] = new ArchiveDefect(
                result.ClassName(d.ClassIndex), d.ClassIndex, new ArchiveBox(d.Bounds.X, d.Bounds.Y, d.Bounds.Width, d.Bounds.Height),
                d.Area, d.CentroidX, d.CentroidY, d.MaxScore, d.MeanScore);
        }

        StageLatencies latencies = result.Latencies;
        ModelIdentity model = result.Model;
        return new ArchiveRecord(
            SchemaVersion,
            result.Sequence,
            result.FrameId,
            result.Verdict == Verdict.Fail ? "FAIL" : "PASS",
            result.Status.ToString(),
            result.Reason,
            new ArchiveTrigger(result.Trigger.UtcTime, result.Trigger.Source, result.Trigger.Correlation),
            new ArchiveImage(imageFile, item.Width, item.Height, item.Format.ToString()),
            new ArchiveModel(model.Id, model.Version, model.Precision, model.ExecutionProvider, model.Sha256),
            defects,
            new ArchiveLatencies(
                latencies[PipelineStage.Capture],
                latencies[PipelineStage.Preprocess],
                latencies[PipelineStage.Inference],
                latencies[PipelineStage.Postprocess],
                latencies[PipelineStage.Publish],
                latencies.TotalMilliseconds),
            archivedUtc);
    }

    [GeneratedRegex(@"^(?<base>\d{12,}-(?:pass|fail))\.(?:png|json)$", RegexOptions.CultureInvariant)]
    private static partial Regex EntryFile();

    private sealed record Entry(string BaseName, long Bytes);
}
