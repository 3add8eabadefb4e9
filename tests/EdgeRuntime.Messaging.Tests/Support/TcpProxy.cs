using System.Net;
using System.Net.Sockets;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>
/// A loopback TCP proxy the test owns: <see cref="CutAll"/> resets every connection at once (the broker sees the client
/// vanish without DISCONNECT), <see cref="BlackHole"/> keeps the sockets open but forwards nothing (a silent partition).
/// </summary>
public sealed class TcpProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient A, TcpClient B)> _pairs = [];
    private readonly Lock _gate = new();
    private volatile bool _blackHole;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    public int Accepted { get; private set; }

    public void BlackHole(bool on) => _blackHole = on;

    public void CutAll()
    {
        lock (_gate)
        {
            foreach ((TcpClient a, TcpClient b) in _pairs)
            {
                // Linger 0 turns the close into a reset, as a crash or a pulled cable would look.
                a.Client?.LingerState = new LingerOption(true, 0);
                b.Client?.LingerState = new LingerOption(true, 0);
                a.Dispose();
                b.Dispose();
            }

            _pairs.Clear();
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Accepted++;
            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _targetPort);
            }
            catch (SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }

            lock (_gate)
            {
                _pairs.Add((inbound, outbound));
            }

            _ = PumpAsync(inbound, outbound);
            _ = PumpAsync(outbound, inbound);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        byte[] buffer = new byte[16384];
        try
        {
            NetworkStream source = from.GetStream();
            NetworkStream target = to.GetStream();
            while (true)
            {
                int read = await source.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (!_blackHole)
                {
                    await target.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException or InvalidOperationException)
        {
            // The other side went away or the test cut it: the pair is done.
        }

        from.Dispose();
        to.Dispose();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        CutAll();
        _stop.Dispose();
    }
}
