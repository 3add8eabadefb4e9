using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>A real mosquitto on a free loopback port with a generated config; stop and restart keep the port.</summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly string _directory;
    private Process? _process;

    public MosquittoBroker(int? port = null)
    {
        Port = port ?? FreePort();
        _directory = Directory.CreateTempSubdirectory("mosquitto-test-").FullName;
        ConfigPath = Path.Combine(_directory, "mosquitto.conf");
        File.WriteAllText(ConfigPath, $"listener {Port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n");
    }

    public int Port { get; }

    public string ConfigPath { get; }

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
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        await WaitUntilAsync(async () =>
        {
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

    public void Dispose()
    {
        Stop();
        Directory.Delete(_directory, recursive: true);
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
