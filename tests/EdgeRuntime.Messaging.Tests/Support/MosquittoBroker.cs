using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>
/// A real mosquitto on a free loopback port with a generated config; stop and restart keep the port. The first listener
/// (<see cref="Port"/>) is plain and anonymous, for test subscribers; <c>extraConfig</c> adds more (TLS, passwords).
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly string _directory;
    private readonly StringBuilder _log = new();
    private Process? _process;

    /// <param name="port">Port of the plain listener; null = a free one.</param>
    /// <param name="extraConfig">Lines appended to the config, e.g. a second listener with TLS.</param>
    /// <param name="perListenerSettings">mosquitto's per_listener_settings, so each listener has its own authentication.</param>
    public MosquittoBroker(int? port = null, string extraConfig = "", bool perListenerSettings = false)
    {
        Port = port ?? FreePort();
        _directory = System.IO.Directory.CreateTempSubdirectory("mosquitto-test-").FullName;
        ConfigPath = Path.Combine(_directory, "mosquitto.conf");
        string head = perListenerSettings ? "per_listener_settings true\n" : string.Empty;

        // Started as root, mosquitto would drop to its own user, which cannot read the test's private temp folders
        // (certificates, password file); as anyone else the line has no effect.
        File.WriteAllText(ConfigPath, $"{head}user {Environment.UserName}\npersistence false\nlog_dest stderr\nlistener {Port} 127.0.0.1\nallow_anonymous true\n{extraConfig}");
    }

    public int Port { get; }

    public string ConfigPath { get; }

    /// <summary>A folder the test may put files in (certificates, password file); deleted with the broker.</summary>
    public string Directory => _directory;

    /// <summary>What mosquitto has logged so far (for diagnosing a failed test).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts mosquitto and returns once it accepts TCP connections.</summary>
    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("/usr/sbin/mosquitto", ["-c", ConfigPath])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info) ?? throw new InvalidOperationException("mosquitto did not start");
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        Process started = _process;
        await WaitUntilAsync(async () =>
        {
            if (started.HasExited)
            {
                throw new InvalidOperationException($"mosquitto exited with {started.ExitCode}: {Log}");
            }

            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), "mosquitto to accept connections");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    /// <summary>Kills mosquitto (no goodbye to clients) and waits for it to exit.</summary>
    public void Stop()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>
    /// Suspends mosquitto (SIGSTOP): connections stay open but nothing is read, acknowledged or forwarded,
    /// as with a hung broker. <see cref="Thaw"/> resumes it.
    /// </summary>
    public void Freeze() => Signal(SigStop);

    /// <summary>Resumes a frozen mosquitto (SIGCONT).</summary>
    public void Thaw() => Signal(SigCont);

    private void Signal(int signal)
    {
        Process process = _process ?? throw new InvalidOperationException("mosquitto is not running");
        if (SendSignal(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    private const int SigStop = 19;
    private const int SigCont = 18;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public void Dispose()
    {
        Stop();
        System.IO.Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Polls a condition until it holds; fails the test with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            }

            await Task.Delay(20);
        }
    }
}
