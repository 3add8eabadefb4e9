using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeRuntime.Messaging.Outbox;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>
/// A folder whose writes really fail with ENOSPC. As root (CI, this machine) it is a tmpfs of the given size mounted for
/// the test: <see cref="Fill"/> writes a filler file until the file system is full and <see cref="MakeRoom"/> deletes it.
/// Where mounting is refused (not root) the outbox's next segment file is made a link to <c>/dev/full</c>, whose writes
/// fail with ENOSPC, after padding the active segment so that the outbox's next write opens that file; with
/// <c>persistent</c> the folder is also made read-only so the outbox cannot replace the link, and the disk stays full until
/// <see cref="MakeRoom"/>. Either way the test runs and can fail. Unmounts on dispose (after the outbox is closed).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FullDisk : IDisposable
{
    private const string FillerName = "filler";
    private readonly string _root;
    private string? _link;
    private string? _readOnly;

    /// <param name="tmpfsBytes">Size of the tmpfs, when one can be mounted.</param>
    public FullDisk(long tmpfsBytes)
    {
        _root = System.IO.Directory.CreateTempSubdirectory("full-disk-").FullName;
        IsTmpfs = Run("mount", "-t", "tmpfs", "-o", "size=" + tmpfsBytes.ToString(CultureInfo.InvariantCulture), "tmpfs", _root) == 0;
        Directory = Path.Combine(_root, "outbox");
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The folder for the outbox, on the small file system.</summary>
    public string Directory { get; }

    /// <summary>Whether a tmpfs was mounted (otherwise the /dev/full link stands in).</summary>
    public bool IsTmpfs { get; }

    /// <summary>Makes the outbox's next writes fail with ENOSPC; see the class summary.</summary>
    /// <param name="outbox">The outbox in <see cref="Directory"/>, opened with <paramref name="segmentBytes"/>-byte segments.</param>
    /// <param name="segmentBytes">The outbox's segment size (the padding fills the active segment exactly).</param>
    /// <param name="paddingTopic">Topic of the padding record (fallback only).</param>
    /// <param name="persistent">Fallback only: keep the disk full after the outbox's first failed write, until <see cref="MakeRoom"/>.</param>
    public void Fill(DurableOutbox outbox, long segmentBytes, string paddingTopic, bool persistent)
    {
        if (IsTmpfs)
        {
            using var filler = new FileStream(Path.Combine(_root, FillerName), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            byte[] block = new byte[4096];
            try
            {
                while (true)
                {
                    filler.Write(block);
                    filler.Flush();
                }
            }
            catch (IOException)
            {
                // Full: exactly what was asked for.
            }

            return;
        }

        // The active segment is the newest file; pad it to exactly one segment so the next record opens a new one.
        FileInfo active = new DirectoryInfo(Directory).GetFiles("*.seg").MaxBy(f => f.Name, StringComparer.Ordinal)
            ?? throw new InvalidOperationException("append something before filling the disk");
        int topicBytes = Encoding.UTF8.GetByteCount(paddingTopic);
        long payload = segmentBytes - active.Length - DurableOutbox.RecordHeaderSize - DurableOutbox.BodyFixedSize - topicBytes;
        Assert.True(payload >= 2, $"the active segment ({active.Length} bytes) is too full to be padded exactly");
        byte[] padding = new byte[payload];
        Array.Fill(padding, (byte)' ');
        padding[0] = (byte)'{';
        padding[^1] = (byte)'}';
        long sequence = outbox.Append(OutboxRecordKind.Event, -1, paddingTopic, padding);
        Assert.True(sequence > 0, "the padding record was not written");
        _link = Path.Combine(Directory, (sequence + 1).ToString("D20", CultureInfo.InvariantCulture) + ".seg");
        File.CreateSymbolicLink(_link, "/dev/full");
        if (persistent)
        {
            File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            _readOnly = Directory;
            string probe = Path.Combine(Directory, "probe");
            bool blocked;
            try
            {
                File.WriteAllBytes(probe, []);
                File.Delete(probe);
                blocked = false;
            }
            catch (UnauthorizedAccessException)
            {
                blocked = true;
            }

            Assert.True(blocked, "this user can neither mount a tmpfs nor be kept out of a read-only folder (root without CAP_SYS_ADMIN): "
                + "the full-disk test needs one of them");
        }
    }

    /// <summary>Frees the space again: the filler goes (tmpfs), or the folder becomes writable and the link goes.</summary>
    public void MakeRoom()
    {
        if (_readOnly is not null)
        {
            File.SetUnixFileMode(_readOnly, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            _readOnly = null;
        }

        if (_link is not null && new FileInfo(_link).LinkTarget is not null)
        {
            File.Delete(_link);
        }

        _link = null;
        File.Delete(Path.Combine(_root, FillerName));
    }

    public void Dispose()
    {
        MakeRoom();
        if (IsTmpfs && Run("umount", _root) != 0)
        {
            // Something still holds a file open: detach now, the kernel frees it when that closes.
            Run("umount", "-l", _root);
        }

        System.IO.Directory.Delete(_root, recursive: true);
    }

    private static int Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        try
        {
            using Process process = Process.Start(start) ?? throw new InvalidOperationException(program + " did not start");
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No such program: as good as refused.
            return -1;
        }
    }
}
