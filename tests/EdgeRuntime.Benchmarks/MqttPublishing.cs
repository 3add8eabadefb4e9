using System.Net;
using System.Net.Sockets;
using EdgeRuntime.Host.Composition;
using EdgeRuntime.Host.Configuration;
using EdgeRuntime.Messaging;
using EdgeRuntime.Messaging.Broker;
using EdgeRuntime.Messaging.Connection;
using EdgeRuntime.Messaging.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// The service's MQTT path, built by the service's own composition root (<see cref="EdgeHost"/>) rather than a copy of
/// its wiring: the result sink that appends to the durable outbox, the connection service that publishes from the
/// outbox (QoS 1), and the embedded broker on a free loopback port. Only those two hosted services are started; the
/// host's own pipeline never runs. Owns the host; dispose after every pipeline publishing to <see cref="Sink"/> stopped.
/// </summary>
internal sealed class MqttPublishing : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly List<IHostedService> _started;

    private MqttPublishing(IHost host, List<IHostedService> started, MqttResultSink sink, DurableOutbox outbox, MqttConnectionState state, int port)
    {
        _host = host;
        _started = started;
        Sink = sink;
        Outbox = outbox;
        State = state;
        Port = port;
    }

    /// <summary>The sink the service registers for MQTT.</summary>
    public MqttResultSink Sink { get; }

    /// <summary>The outbox <see cref="Sink"/> appends to and the connection publishes from; owned by the host.</summary>
    public DurableOutbox Outbox { get; }

    /// <summary>The connection's counters (messages published).</summary>
    public MqttConnectionState State { get; }

    public int Port { get; }

    public string Description => $"MQTT: durable outbox, connection service (QoS 1), embedded broker on 127.0.0.1:{Port}";

    /// <summary>Builds the host over <paramref name="stateDirectory"/>, starts the broker and the connection, waits until connected.</summary>
    /// <exception cref="BenchmarkException">The configuration is refused or the connection does not come up.</exception>
    public static async Task<MqttPublishing> StartAsync(string stateDirectory, string modelPackage, string samples, CancellationToken cancellationToken)
    {
        int port = FreeLoopbackPort();
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Model:Package"] = modelPackage,
            ["Source:Kind"] = "Replay",
            ["Source:Replay:Directory"] = samples,
            ["Trigger:Kind"] = "FreeRun",
            ["Pipeline:StateDirectory"] = stateDirectory,
            ["Archive:Enabled"] = "false",
            ["Reject:Enabled"] = "false",
            ["Console:PrintResults"] = "false",
            ["Console:SummaryIntervalSeconds"] = "0",
            ["Mqtt:Enabled"] = "true",
            ["Mqtt:Host"] = string.Empty,
            ["Mqtt:EmbeddedBroker:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mqtt:DeviceId"] = "bench",
            ["Mqtt:ClientId"] = "edge-bench",
            ["Logging:LogLevel:Default"] = "Warning",
        };

        // An empty file rather than none, so a config under /etc on the machine cannot leak in.
        string empty = Path.Combine(stateDirectory, "empty.json");
        await File.WriteAllTextAsync(empty, "{}", cancellationToken).ConfigureAwait(false);
        EdgeConfiguration configuration = EdgeConfiguration.Build(empty, overrides);
        IHost host = EdgeHost.Build(configuration, TextWriter.Null, out OptionsRegistry registry);
        var started = new List<IHostedService>();
        bool ready = false;
        try
        {
            IReadOnlyList<string> problems = registry.Check(host.Services, configuration.Root);
            if (problems.Count > 0)
            {
                throw new BenchmarkException("the MQTT configuration is refused: " + string.Join("; ", problems));
            }

            // Broker first, as the service registers them.
            foreach (IHostedService service in host.Services.GetServices<IHostedService>())
            {
                if (service is EmbeddedBroker or MqttConnectionService)
                {
                    await service.StartAsync(cancellationToken).ConfigureAwait(false);
                    started.Add(service);
                }
            }

            MqttConnectionState state = host.Services.GetRequiredService<MqttConnectionState>();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                await state.WaitConnectedAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new BenchmarkException($"the MQTT connection to the embedded broker on 127.0.0.1:{port} did not come up within 30 s ({state.Snapshot().LastError})");
            }

            var publishing = new MqttPublishing(host, started, host.Services.GetRequiredService<MqttResultSink>(),
                host.Services.GetRequiredService<DurableOutbox>(), state, port);
            ready = true;
            return publishing;
        }
        finally
        {
            if (!ready)
            {
                await StopAsync(host, started).ConfigureAwait(false);
            }
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync(_host, _started));

    private static async Task StopAsync(IHost host, List<IHostedService> started)
    {
        // Reverse order: the connection drains what it can, then the broker goes.
        for (int i = started.Count - 1; i >= 0; i--)
        {
            await started[i].StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        host.Dispose();
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
