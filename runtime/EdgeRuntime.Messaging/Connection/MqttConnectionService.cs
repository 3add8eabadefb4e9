using System.Buffers;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using EdgeRuntime.Messaging.Commands;
using EdgeRuntime.Messaging.Health;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Protocol;

namespace EdgeRuntime.Messaging.Connection;

/// <summary>
/// Owns the broker connection (MQTTnet 5 has no managed client): connect with a timeout, retry with exponential
/// back-off and jitter (a broker down at boot is not fatal), birth and Last Will on the retained status topic,
/// subscribe to commands after every connect, publish the outbox in order and acknowledge each record after its
/// PUBACK, answer commands, publish health, and detect a silent partition by pinging every half keep-alive with a
/// half keep-alive timeout (so within one keep-alive, inside the required 1.5x). Every network call has a timeout;
/// a broken session is dropped and rebuilt, and what was sent but not acknowledged is sent again (at-least-once).
/// </summary>
/// <remarks>Register it before the pipeline's hosted service: hosted services stop in reverse order, so the pipeline
/// drains first and this service then gets up to <see cref="DrainTime"/> to flush the outbox before going offline.</remarks>
public sealed partial class MqttConnectionService : BackgroundService
{
    /// <summary>How long a clean stop keeps publishing what is left in the outbox.</summary>
    public static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan s_ageCheckPeriod = TimeSpan.FromMinutes(1);

    private readonly MqttOptions _options;
    private readonly MqttTopics _topics;
    private readonly DurableOutbox _outbox;
    private readonly CommandProcessor _commands;
    private readonly HealthReporter _health;
    private readonly MqttConnectionState _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MqttClientFactory _factory = new();
    private readonly Random _jitter = new();
    private readonly Channel<CommandRequest> _requests;
    private readonly ArrayBufferWriter<byte> _healthBuffer = new(4096);
    private long _commandsDropped;

    private sealed record CommandRequest(string Name, byte[]? Payload, long Length, string? ResponseTopic, byte[]? CorrelationData);

    public MqttConnectionService(IOptions<MqttOptions> options, MqttTopics topics, DurableOutbox outbox, CommandProcessor commands,
        HealthReporter health, MqttConnectionState state, TimeProvider timeProvider, ILogger<MqttConnectionService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _topics = topics;
        _outbox = outbox;
        _commands = commands;
        _health = health;
        _state = state;
        _time = timeProvider;
        _logger = logger;
        _requests = Channel.CreateBounded<CommandRequest>(
            new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            _ => Interlocked.Increment(ref _commandsDropped));
    }

    /// <summary>Commands dropped unanswered because 64 were already waiting (a flood).</summary>
    public long CommandsDropped => Interlocked.Read(ref _commandsDropped);

    private TimeSpan PublishTimeout => TimeSpan.FromSeconds(_options.PublishTimeoutSeconds);

    private TimeSpan PingPeriod => TimeSpan.FromSeconds(_options.KeepAliveSeconds / 2.0);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Start-up must not wait for the broker: the first connect attempt runs after the host has started.
        await Task.Yield();
        using OutboxReader reader = _outbox.CreateReader();
        using ITimer ageCheck = _time.CreateTimer(static s => ((DurableOutbox)s!).EnforceAgeLimit(), _outbox, s_ageCheckPeriod, s_ageCheckPeriod);
        MqttProtocol protocol = _options.ProtocolVersion;
        int attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            string? failure;
            using (IMqttClient client = _factory.CreateMqttClient())
            {
                try
                {
                    failure = await ConnectAsync(client, protocol, stoppingToken).ConfigureAwait(false);
                    if (failure is null)
                    {
                        attempt = 0;
                        failure = await RunSessionAsync(client, reader, protocol, stoppingToken).ConfigureAwait(false);
                    }
                }
                // MQTTnet 5 reports the CONNACK code only in the message of this exception.
                catch (MqttConnectingFailedException ex) when (protocol == MqttProtocol.V5 && ex.Message.Contains(nameof(MqttClientConnectResultCode.UnsupportedProtocolVersion), StringComparison.Ordinal))
                {
                    Log.FallingBackTo311(_logger);
                    protocol = MqttProtocol.V311;
                    failure = ex.Message;
                }
                catch (Exception ex) when (IsConnectionFault(ex))
                {
                    failure = ex.GetType().Name + ": " + ex.Message;
                }
            }

            if (failure is not null)
            {
                _state.OnConnectFailed(failure);
            }

            _state.OnDisconnected(failure);
            if (stoppingToken.IsCancellationRequested)
            {
                break;
            }

            TimeSpan delay = Backoff(attempt++);
            Log.Retrying(_logger, Endpoint, failure ?? "disconnected", delay.TotalMilliseconds);
            try
            {
                await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    private string Endpoint => string.IsNullOrWhiteSpace(_options.Host)
        ? $"{_options.EmbeddedBroker.Address}:{_options.EmbeddedBroker.Port} (embedded)"
        : $"{_options.Host}:{_options.Port}";

    /// <summary>Exponential back-off, capped, with ± jitter so a fleet does not reconnect in lock-step.</summary>
    internal TimeSpan Backoff(int attempt)
    {
        ReconnectOptions reconnect = _options.Reconnect;
        double delay = Math.Min(reconnect.MaxDelayMs, reconnect.InitialDelayMs * Math.Pow(2, Math.Min(attempt, 30)));
        delay *= 1 + (reconnect.Jitter * ((_jitter.NextDouble() * 2) - 1));
        return TimeSpan.FromMilliseconds(Math.Clamp(delay, 1, reconnect.MaxDelayMs));
    }

    /// <summary>Connects; returns null on success, otherwise why the broker refused.</summary>
    private async Task<string?> ConnectAsync(IMqttClient client, MqttProtocol protocol, CancellationToken cancellationToken)
    {
        MqttClientOptions options = MqttClientOptionsFactory.Create(_options, _topics, protocol, StatusPayload("offline"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        MqttClientConnectResult result;
        try
        {
            result = await client.ConnectAsync(options, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"connect to {Endpoint} timed out after {_options.ConnectTimeoutSeconds} s");
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            return $"broker refused the connection: {result.ResultCode} {result.ReasonString}";
        }

        return null;
    }

    /// <summary>Runs one session until it breaks (returns why) or the service stops (returns null after a clean goodbye).</summary>
    private async Task<string?> RunSessionAsync(IMqttClient client, OutboxReader reader, MqttProtocol protocol, CancellationToken stoppingToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        string? lost = null;
        client.DisconnectedAsync += e =>
        {
            lost ??= $"disconnected: {e.Reason} {e.Exception?.Message}".TrimEnd();
            session.Cancel();
            return Task.CompletedTask;
        };
        client.ApplicationMessageReceivedAsync += OnMessageReceived;

        await PublishWithTimeoutAsync(client, StatusMessage("online", protocol), stoppingToken).ConfigureAwait(false);
        MqttClientSubscribeOptions subscribe = _factory.CreateSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(_topics.CommandFilter).WithAtLeastOnceQoS().WithNoLocal(protocol == MqttProtocol.V5))
            .Build();
        using (var timeout = new CancellationTokenSource(PublishTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timeout.Token))
        {
            MqttClientSubscribeResult subscribed = await client.SubscribeAsync(subscribe, linked.Token).ConfigureAwait(false);
            foreach (MqttClientSubscribeResultItem item in subscribed.Items)
            {
                if ((int)item.ResultCode > 2)
                {
                    Log.SubscribeRefused(_logger, item.TopicFilter.Topic, item.ResultCode.ToString());
                }
            }
        }

        _state.OnConnected(_time.GetUtcNow(), protocol == MqttProtocol.V5 ? "5.0" : "3.1.1");
        Log.Connected(_logger, Endpoint, protocol == MqttProtocol.V5 ? "5.0" : "3.1.1", _outbox.Status.Pending);
        reader.Rewind();

        Task[] loops =
        [
            PublishLoopAsync(client, reader, protocol, session.Token),
            LivenessLoopAsync(client, session.Token),
            HealthLoopAsync(client, protocol, session.Token),
            CommandLoopAsync(client, protocol, session.Token),
        ];
        await Task.WhenAny(loops).ConfigureAwait(false);
        await session.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (Task loop in loops)
        {
            if (loop.Exception?.InnerException is { } ex)
            {
                if (!IsConnectionFault(ex))
                {
                    ExceptionDispatchInfo.Throw(ex);
                }

                lost ??= ex.GetType().Name + ": " + ex.Message;
            }
        }

        if (stoppingToken.IsCancellationRequested && client.IsConnected)
        {
            await GoodbyeAsync(client, reader, protocol).ConfigureAwait(false);
            return null;
        }

        return lost ?? "session ended";
    }

    private async Task GoodbyeAsync(IMqttClient client, OutboxReader reader, MqttProtocol protocol)
    {
        using var drain = new CancellationTokenSource(DrainTime, _time);
        reader.Rewind();
        try
        {
            while (reader.TryRead(out OutboxRecord? record, out _))
            {
                await PublishRecordAsync(client, record, protocol, drain.Token).ConfigureAwait(false);
            }

            await PublishWithTimeoutAsync(client, StatusMessage("offline", protocol), drain.Token).ConfigureAwait(false);
            await client.DisconnectAsync(new MqttClientDisconnectOptions(), drain.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionFault(ex) || ex is OperationCanceledException)
        {
            // The broker went away during the goodbye: the Last Will says offline instead, and what is left stays in the outbox.
            Log.GoodbyeIncomplete(_logger, ex.Message, _outbox.Status.Pending);
        }
    }

    private async Task PublishLoopAsync(IMqttClient client, OutboxReader reader, MqttProtocol protocol, CancellationToken cancellationToken)
    {
        while (true)
        {
            OutboxRecord record = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            await PublishRecordAsync(client, record, protocol, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Publishes one outbox record (QoS 1) and acknowledges it in the outbox after the broker's PUBACK.</summary>
    private async Task PublishRecordAsync(IMqttClient client, OutboxRecord record, MqttProtocol protocol, CancellationToken cancellationToken)
    {
        MqttApplicationMessage message = RecordMessage(record, protocol, replay: false);
        while (true)
        {
            MqttClientPublishResult result = await PublishWithTimeoutAsync(client, message, cancellationToken).ConfigureAwait(false);
            if (result.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers)
            {
                break;
            }

            if (result.ReasonCode is MqttClientPublishReasonCode.NotAuthorized or MqttClientPublishReasonCode.TopicNameInvalid
                or MqttClientPublishReasonCode.PayloadFormatInvalid or MqttClientPublishReasonCode.PacketIdentifierInUse)
            {
                // The broker will never take this one: skip it rather than block everything behind it.
                _state.OnRejected();
                Log.Rejected(_logger, record.Sequence, record.Topic, result.ReasonCode.ToString(), result.ReasonString);
                break;
            }

            // Quota exceeded, server busy, unspecified: the broker may take it later.
            Log.PublishDeferred(_logger, record.Sequence, result.ReasonCode.ToString());
            await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
        }

        _outbox.Acknowledge(record.Sequence);
        _state.OnPublished();
    }

    private MqttApplicationMessage RecordMessage(OutboxRecord record, MqttProtocol protocol, bool replay)
    {
        MqttApplicationMessageBuilder builder = new MqttApplicationMessageBuilder()
            .WithTopic(record.Topic)
            .WithPayload(record.Payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (protocol == MqttProtocol.V5)
        {
            // Expiry matches the outbox's age limit: a record the outbox would have dropped is not worth delivering either.
            TimeSpan age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(record.TimestampMs);
            double remaining = Math.Max(1, (_outbox.MaxAge - age).TotalSeconds);
            builder.WithMessageExpiryInterval((uint)remaining)
                .WithContentType("application/json")
                .WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData);
            if (replay)
            {
                builder.WithUserProperty("replay", "true"u8.ToArray());
            }
        }

        return builder.Build();
    }

    private async Task<MqttClientPublishResult> PublishWithTimeoutAsync(IMqttClient client, MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(PublishTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await client.PublishAsync(message, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no PUBACK for {message.Topic} within {_options.PublishTimeoutSeconds} s");
        }
    }

    private async Task LivenessLoopAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(PingPeriod, _time, cancellationToken).ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(PingPeriod, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await client.PingAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no PINGRESP within {PingPeriod.TotalSeconds} s: the connection is silently dead");
            }
        }
    }

    private async Task HealthLoopAsync(IMqttClient client, MqttProtocol protocol, CancellationToken cancellationToken)
    {
        TimeSpan period = TimeSpan.FromSeconds(_options.HealthIntervalSeconds);
        using var timer = new PeriodicTimer(period, _time);
        do
        {
            _healthBuffer.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(_healthBuffer))
            {
                _health.Write(writer);
            }

            MqttApplicationMessageBuilder builder = new MqttApplicationMessageBuilder()
                .WithTopic(_topics.Health)
                .WithPayload(_healthBuffer.WrittenMemory.ToArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce);
            if (protocol == MqttProtocol.V5)
            {
                // Retained so a new subscriber sees the last health at once, and expiring with the period so it never shows a stale one.
                builder.WithRetainFlag().WithMessageExpiryInterval((uint)_options.HealthIntervalSeconds).WithContentType("application/json");
            }

            await PublishWithTimeoutAsync(client, builder.Build(), cancellationToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private Task OnMessageReceived(MqttApplicationMessageReceivedEventArgs e)
    {
        MqttApplicationMessage message = e.ApplicationMessage;
        string topic = message.Topic;
        if (!topic.StartsWith(_topics.CommandPrefix, StringComparison.Ordinal) || topic.EndsWith("/reply", StringComparison.Ordinal))
        {
            // Our own replies (3.1.1 has no no-local) and anything else that matched the filter.
            return Task.CompletedTask;
        }

        long length = message.Payload.Length;
        byte[]? payload = length <= _options.MaxCommandBytes ? message.Payload.ToArray() : null;
        string? responseTopic = IsValidResponseTopic(message.ResponseTopic) ? message.ResponseTopic : null;
        byte[]? correlation = message.CorrelationData is { Length: > 0 and <= 1024 } c ? c.ToArray() : null;
        if (!_requests.Writer.TryWrite(new CommandRequest(topic[_topics.CommandPrefix.Length..], payload, length, responseTopic, correlation)))
        {
            Log.CommandDropped(_logger, topic);
        }

        return Task.CompletedTask;
    }

    private static bool IsValidResponseTopic(string? topic) =>
        !string.IsNullOrEmpty(topic) && topic.Length <= 1024 && topic.IndexOfAny(['+', '#', '\0']) < 0;

    private async Task CommandLoopAsync(IMqttClient client, MqttProtocol protocol, CancellationToken cancellationToken)
    {
        while (true)
        {
            CommandRequest request = await _requests.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            CommandOutcome outcome = request.Payload is null
                ? _commands.Refuse(request.Name, "payload-too-large", $"the payload has {request.Length} bytes; at most {_options.MaxCommandBytes} are accepted")
                : _commands.Handle(request.Name, new ReadOnlySequence<byte>(request.Payload));
            _state.OnCommand();
            Log.CommandHandled(_logger, request.Name.Length > 64 ? request.Name[..64] : request.Name, outcome.Succeeded);

            MqttApplicationMessageBuilder reply = new MqttApplicationMessageBuilder()
                .WithTopic(request.ResponseTopic ?? _topics.Reply(SafeName(request.Name)))
                .WithPayload(outcome.Reply)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
            if (protocol == MqttProtocol.V5)
            {
                reply.WithContentType("application/json");
                if (request.CorrelationData is { } correlation)
                {
                    reply.WithCorrelationData(correlation);
                }
            }

            await PublishWithTimeoutAsync(client, reply.Build(), cancellationToken).ConfigureAwait(false);
            foreach (OutboxRecord record in outcome.Republish)
            {
                await PublishWithTimeoutAsync(client, RecordMessage(record, protocol, replay: true), cancellationToken).ConfigureAwait(false);
            }

            _state.OnRepublished(outcome.Republish.Count);
        }
    }

    /// <summary>A reply topic level built from an unknown command name must not inject wildcards or empty levels.</summary>
    private static string SafeName(string name)
    {
        if (name.Length is > 0 and <= 64 && name.IndexOfAny(['+', '#', '\0']) < 0 && !name.Contains("//", StringComparison.Ordinal) && !name.EndsWith('/'))
        {
            return name;
        }

        return "invalid";
    }

    private MqttApplicationMessage StatusMessage(string state, MqttProtocol protocol)
    {
        MqttApplicationMessageBuilder builder = new MqttApplicationMessageBuilder()
            .WithTopic(_topics.Status)
            .WithPayload(StatusPayload(state))
            .WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (protocol == MqttProtocol.V5)
        {
            builder.WithContentType("application/json");
        }

        return builder.Build();
    }

    private byte[] StatusPayload(string state)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schema", 1);
            writer.WriteString("state", state);
            writer.WriteString("clientId", _options.EffectiveClientId);
            writer.WriteString("device", _options.EffectiveDeviceId);
            writer.WriteString("runtimeVersion", typeof(MqttConnectionService).Assembly.GetName().Version?.ToString() ?? "unknown");
            if (state == "online")
            {
                writer.WriteString("utc", _time.GetUtcNow());
                writer.WriteStartArray("commands");
                foreach (string command in CommandProcessor.Known)
                {
                    writer.WriteStringValue(command);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Faults that end a session and are answered by reconnecting; anything else is a bug and stops the service.</summary>
    private static bool IsConnectionFault(Exception ex) => ex switch
    {
        OperationCanceledException => true,
        MQTTnet.Exceptions.MqttCommunicationException or IOException or SocketException or AuthenticationException or TimeoutException
            or CryptographicException or UnauthorizedAccessException or ObjectDisposedException => true,
        InvalidOperationException when ex.Message.Contains("connect", StringComparison.OrdinalIgnoreCase) => true,
        _ => false,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "MQTT connected to {Endpoint} (MQTT {Protocol}); {Pending} outbox record(s) to send")]
        public static partial void Connected(ILogger logger, string endpoint, string protocol, long pending);

        [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "MQTT broker {Endpoint} not available ({Reason}); retrying in {DelayMs:F0} ms, results wait in the outbox")]
        public static partial void Retrying(ILogger logger, string endpoint, string reason, double delayMs);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "MQTT broker does not speak MQTT 5; falling back to 3.1.1 (no correlation data, response topics or message expiry)")]
        public static partial void FallingBackTo311(ILogger logger);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "MQTT broker refused outbox record {Sequence} on {Topic} for good ({ReasonCode} {ReasonString}); skipped")]
        public static partial void Rejected(ILogger logger, long sequence, string topic, string reasonCode, string? reasonString);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "MQTT broker deferred outbox record {Sequence} ({ReasonCode}); retrying")]
        public static partial void PublishDeferred(ILogger logger, long sequence, string reasonCode);

        [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "MQTT subscription {Topic} refused ({ResultCode}): commands will not arrive")]
        public static partial void SubscribeRefused(ILogger logger, string topic, string resultCode);

        [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "MQTT command on {Topic} dropped unanswered: too many commands waiting")]
        public static partial void CommandDropped(ILogger logger, string topic);

        [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "MQTT command {Command} answered (ok: {Succeeded})")]
        public static partial void CommandHandled(ILogger logger, string command, bool succeeded);

        [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "MQTT clean stop incomplete ({Reason}); {Pending} record(s) stay in the outbox for the next start")]
        public static partial void GoodbyeIncomplete(ILogger logger, string reason, long pending);
    }
}
