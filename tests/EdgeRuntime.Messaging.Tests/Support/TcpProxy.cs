using System.Net;
using System.Net.Sockets;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>
/// A loopback TCP proxy the test owns: <see cref="CutAll"/> resets every connection at once (the broker sees the client
/// vanish without DISCONNECT), <see cref="BlackHole"/> keeps the sockets open but forwards nothing (a silent partition).
/// With <see cref="Mqtt311Only"/> it plays a broker that predates MQTT 5: a CONNECT for protocol level 5 is answered
/// as such a broker answers it (a 3.1.1 CONNACK "unacceptable protocol version", then close); others pass through.
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

    /// <summary>Refuse MQTT 5 CONNECTs the way a 3.1.1-only broker does.</summary>
    public bool Mqtt311Only { get; set; }

    /// <summary>MQTT 5 CONNECTs refused because of <see cref="Mqtt311Only"/>.</summary>
    public int RefusedV5 { get; private set; }

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
            _ = ConnectAsync(inbound);
        }
    }

    private async Task ConnectAsync(TcpClient inbound)
    {
        byte[] head = [];
        if (Mqtt311Only)
        {
            head = await ReadConnectHeadAsync(inbound);
            if (head.Length == 0)
            {
                inbound.Dispose();
                return;
            }

            if (ProtocolLevel(head) == 5)
            {
                RefusedV5++;
                try
                {
                    // CONNACK, remaining length 2, no session, return code 1 = unacceptable protocol version (3.1.1, 3.2.2.3).
                    await inbound.GetStream().WriteAsync(new byte[] { 0x20, 0x02, 0x00, 0x01 }, _stop.Token);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
                {
                    // The client left first: nothing to answer.
                }

                inbound.Dispose();
                return;
            }
        }

        var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, _targetPort);
            if (head.Length > 0)
            {
                await outbound.GetStream().WriteAsync(head, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
            inbound.Dispose();
            outbound.Dispose();
            return;
        }

        lock (_gate)
        {
            _pairs.Add((inbound, outbound));
        }

        _ = PumpAsync(inbound, outbound);
        _ = PumpAsync(outbound, inbound);
    }

    /// <summary>Reads the CONNECT's fixed header, protocol name and level (12 bytes at most); empty when the client left.</summary>
    private async Task<byte[]> ReadConnectHeadAsync(TcpClient client)
    {
        byte[] buffer = new byte[12];
        int filled = 0;
        try
        {
            NetworkStream stream = client.GetStream();
            while (filled < buffer.Length && (filled < 2 || ProtocolLevel(buffer.AsSpan(0, filled)) < 0))
            {
                int read = await stream.ReadAsync(buffer.AsMemory(filled), _stop.Token);
                if (read == 0)
                {
                    return [];
                }

                filled += read;
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            return [];
        }

        return buffer[..filled];
    }

    /// <summary>The protocol level byte of a CONNECT (4 = 3.1.1, 5 = 5.0); -1 while not enough bytes are there.</summary>
    private static int ProtocolLevel(ReadOnlySpan<byte> head)
    {
        int i = 1;
        while (i < head.Length && (head[i] & 0x80) != 0)
        {
            i++;
        }

        // Remaining length ends at i; then the protocol name (2-byte length + "MQTT") and the level.
        int level = i + 1 + 2 + 4;
        return level < head.Length ? head[level] : -1;
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
