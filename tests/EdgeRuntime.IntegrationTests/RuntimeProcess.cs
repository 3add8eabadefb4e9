using System.Diagnostics;
using System.Runtime.InteropServices;

namespace EdgeRuntime.IntegrationTests;

/// <summary>Starts the edge-runtime executable as a person or systemd would, and signals it.</summary>
internal static class RuntimeProcess
{
    private const int SigInt = 2;

    /// <summary>Starts <c>edge-runtime</c> with redirected output; the caller disposes the process.</summary>
    public static Process Start(string arguments, IDictionary<string, string>? environment = null)
    {
        // Through env(1), which restores SIGINT's default disposition: a test run started in the background (nohup,
        // `&` in a script) leaves SIGINT ignored, every child inherits that, and .NET keeps an inherited ignore, so the
        // Ctrl-C the tests send would never reach the runtime.
        var start = new ProcessStartInfo("env", $"--default-signal=INT dotnet \"{RepositoryPaths.HostExecutable}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("edge-runtime did not start");
    }

    /// <summary>
    /// Waits for <paramref name="process"/> to exit; past <paramref name="timeout"/> kills it and fails with its last
    /// output, so that a stop that hangs says where.
    /// </summary>
    public static async Task WaitForExitAsync(Process process, TimeSpan timeout, OutputTail output)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(
                $"edge-runtime (pid {process.Id}) did not exit within {timeout.TotalSeconds:F0} s; its last output:{Environment.NewLine}{output}");
        }
    }

    /// <summary>Sends SIGINT (Ctrl-C): the clean stop. Returns 0 on success, as kill(2) does.</summary>
    public static int Interrupt(int pid) => Kill(pid, SigInt);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>The last lines a process wrote to standard output and error, for a failure message.</summary>
internal sealed class OutputTail
{
    private const int Capacity = 80;
    private readonly Queue<string> _lines = new(Capacity);

    /// <summary>Keeps <paramref name="line"/> (null, the end of a stream, is ignored).</summary>
    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            if (_lines.Count == Capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue(line);
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return string.Join(Environment.NewLine, _lines);
        }
    }
}
