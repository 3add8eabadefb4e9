using System.Net;
using System.Net.Sockets;
using EdgeRuntime.Messaging.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet.Server;

namespace EdgeRuntime.Messaging.Broker;

/// <summary>
/// An MQTTnet.Server broker inside the runtime for the default run (no broker configured), listening on
/// <see cref="EmbeddedBrokerOptions.Address"/> (loopback by default) so <c>mosquitto_sub -t 'edge/#'</c> on the same
/// machine sees the results. Not fatal when the port is taken (another broker already serves it): that is logged and
/// the client connects to whatever listens there. Register it before the connection service so it starts first.
/// </summary>
public sealed partial class EmbeddedBroker : IHostedService, IDisposable
{
    private readonly EmbeddedBrokerOptions _options;
    private readonly ILogger _logger;
    private MqttServer? _server;

    public EmbeddedBroker(IOptions<MqttOptions> options, ILogger<EmbeddedBroker> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.EmbeddedBroker;
        _logger = logger;
    }

    /// <summary>Whether the broker is listening.</summary>
    public bool IsRunning => _server?.IsStarted ?? false;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = new MqttServerFactory();
        MqttServerOptions options = factory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Parse(_options.Address))
            .WithDefaultEndpointPort(_options.Port)
            .Build();
        MqttServer server = factory.CreateMqttServer(options);
        server.ValidatingConnectionAsync += AssignMissingClientId;
        try
        {
            await server.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            _server = server;
            Log.Started(_logger, _options.Address, _options.Port);
        }
        catch (SocketException ex)
        {
            server.Dispose();
            Log.PortTaken(_logger, ex, _options.Address, _options.Port);
        }
    }

    /// <summary>
    /// mosquitto_sub (3.1.1, clean session) sends an empty client id and expects the broker to assign one, as MQTT allows
    /// and mosquitto does; MQTTnet.Server refuses that unless told an id.
    /// </summary>
    private static Task AssignMissingClientId(ValidatingConnectionEventArgs e)
    {
        if (string.IsNullOrEmpty(e.ClientId))
        {
            e.AssignedClientIdentifier = "auto-" + Guid.NewGuid().ToString("N")[..12];
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            await server.StopAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _server?.Dispose();
        _server = null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5200, Level = LogLevel.Information, Message = "Embedded MQTT broker listening on {Address}:{Port}")]
        public static partial void Started(ILogger logger, string address, int port);

        [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "Embedded MQTT broker could not listen on {Address}:{Port} (another broker?); the client connects to whatever serves that port")]
        public static partial void PortTaken(ILogger logger, Exception exception, string address, int port);
    }
}
