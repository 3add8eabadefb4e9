using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
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
    private static readonly ReadOnlyMemory<byte> s_true = "true"u8.ToArray();

    private readonly MqttOptions _options;
    private readonly MqttTopics _topics;
    private readonly DurableOutbox _outbox;
    private readonly CommandProcessor _commands;
    private readonly HealthReporter _health;
    private readonly MqttConnectionState _state;
    private readonly MqttLiveSettings _live;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MqttClientFactory _factory = new();
    private readonly Random _jitter = new();
    private readonly Channel<CommandRequest> _requests;
    private readonly ArrayBufferWriter<byte> _healthBuffer = new(4096);
    private readonly TlsHandshakeReport _handshake = new();

    private sealed record CommandRequest(string Name, byte[]? Payload, long Length, string? ResponseTopic, byte[]? CorrelationData);

    /// <param name="options">The Mqtt section, read once.</param>
    /// <param name="topics">The device's topic tree.</param>
    /// <param name="outbox">What to publish; owned by the caller.</param>
    /// <param name="commands">Answers commands.</param>
    /// <param name="health">Writes the health payload.</param>
    /// <param name="state">Where the connection's state is reported.</param>
    /// <param name="timeProvider">Clock for timeouts, back-off and health.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="live">The keys applied while running (health interval); null = fixed at the start-up values.</param>
    public MqttConnectionService(IOptions<MqttOptions> options, MqttTopics topics, DurableOutbox outbox, CommandProcessor commands,
        HealthReporter health, MqttConnectionState state, TimeProvider timeProvider, ILogger<MqttConnectionService> logger, MqttLiveSettings? live = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _topics = topics;
        _outbox = outbox;
        _commands = commands;
        _health = health;
        _state = state;
        _live = live ?? new MqttLiveSettings(_options);
        _time = timeProvider;
        _logger = logger;

        // Full = wait: the receive handler then holds back its PUBACK, so the broker's in-flight window throttles a flood
        // instead of requests being dropped unanswered.
        _requests = Channel.CreateBounded<CommandRequest>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

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
            bool sessionUp = false;
            MqttClientOptions? clientOptions = null;
            _handshake.Reset();
            using (IMqttClient client = _factory.CreateMqttClient())
            {
                try
                {
                    clientOptions = MqttClientOptionsFactory.Create(_options, _topics, protocol, StatusPayload("offline"), _handshake);
                    (failure, bool refusesMqtt5) = await ConnectAsync(client, clientOptions, stoppingToken).ConfigureAwait(false);
                    if (failure is null)
                    {
                        attempt = 0;
                        sessionUp = true;
                        failure = await RunSessionAsync(client, reader, protocol, stoppingToken).ConfigureAwait(false);
                    }
                    else if (refusesMqtt5 && protocol == MqttProtocol.V5)
                    {
                        Log.FallingBackTo311(_logger);
                        protocol = MqttProtocol.V311;
                        attempt = 0;
                    }
                }
                catch (MqttConnectingFailedException ex) when (protocol == MqttProtocol.V5 && RefusesMqtt5(ex))
                {
                    Log.FallingBackTo311(_logger);
                    protocol = MqttProtocol.V311;
                    failure = ex.Message;
                    attempt = 0;
                }
                catch (Exception ex) when (IsConnectionFault(ex))
                {
                    failure = Describe(ex, duringConnect: !sessionUp);
                }
            }

            if (clientOptions is not null)
            {
                MqttClientOptionsFactory.Release(clientOptions);
            }

            bool stopping = stoppingToken.IsCancellationRequested;
            TimeSpan delay = TimeSpan.Zero;
            if (!stopping)
            {
                // Logged before the state changes, so whoever sees the failure in the state finds its log line too.
                delay = Backoff(attempt++);
                Log.Retrying(_logger, Endpoint, failure ?? "disconnected", delay.TotalMilliseconds);
            }

            if (failure is not null)
            {
                _state.OnConnectFailed(failure);
            }

            _state.OnDisconnected(failure);
            if (stopping)
            {
                break;
            }

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

    /// <summary>
    /// Whether a refused MQTT 5 CONNECT means the broker does not speak 5.0: it says so (0x84), or it is a 3.1.1 broker
    /// whose CONNACK return code 1 ("unacceptable protocol version") reads as 1 under MQTT 5.
    /// </summary>
    private static bool RefusesMqtt5(MqttClientConnectResultCode code) =>
        code == MqttClientConnectResultCode.UnsupportedProtocolVersion || (int)code == 1;

    /// <summary>The same for MQTTnet's exception, which carries the code only in its message.</summary>
    private static bool RefusesMqtt5(MqttConnectingFailedException ex) =>
        ex.Message.Contains(nameof(MqttClientConnectResultCode.UnsupportedProtocolVersion), StringComparison.Ordinal) || ex.Message.EndsWith(": 1", StringComparison.Ordinal);

    /// <summary>Why a connect attempt or session failed, in words for health: the TLS layer's reason where it had one.</summary>
    private string Describe(Exception ex, bool duringConnect)
    {
        if (_handshake.Rejection is { } rejection)
        {
            return "TLS: broker certificate refused: " + rejection;
        }

        string text = ex.GetType().Name + ": " + ex.Message;
        for (Exception? inner = ex.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (!text.Contains(inner.Message, StringComparison.Ordinal))
            {
                text += " <- " + inner.Message;
            }
        }

        if (duringConnect && _handshake.ServerCertificateAccepted && ex is (MQTTnet.Exceptions.MqttCommunicationException or IOException) and not MqttConnectingFailedException { InnerException: null })
        {
            // Under TLS 1.3 the broker checks the client certificate after the client's side of the handshake is done, so
            // its refusal arrives as the connection closing before CONNACK, not as a TLS error.
            string certificate = string.IsNullOrEmpty(_options.Tls.ClientCertFile) ? "none configured" : _options.Tls.ClientCertFile;
            text += $" (the broker closed the TLS connection before accepting the client: that is how a broker refuses the client certificate, Mqtt:Tls:ClientCertFile = {certificate})";
        }

        return text;
    }

    /// <summary>Connects; returns a null failure on success, otherwise why the broker refused and whether it refused MQTT 5 itself.</summary>
    private async Task<(string? Failure, bool RefusesMqtt5)> ConnectAsync(IMqttClient client, MqttClientOptions options, CancellationToken cancellationToken)
    {
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
            string hint = result.ResultCode is MqttClientConnectResultCode.NotAuthorized or MqttClientConnectResultCode.BadUserNameOrPassword
                ? string.IsNullOrEmpty(_options.Username) ? " (no Mqtt:Username is configured)" : $" (as user \"{_options.Username}\": check Mqtt:Username and the password)"
                : string.Empty;
            return ($"broker refused the connection: {result.ResultCode} {result.ReasonString}".TrimEnd() + hint, RefusesMqtt5(result.ResultCode));
        }

        return (null, false);
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
        client.ApplicationMessageReceivedAsync += e => OnMessageReceivedAsync(e, session.Token);

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

        // Born only once subscribed: a consumer that sends a command as soon as it sees "online" is heard.
        using (var birth = new CallTimeout(stoppingToken, _time))
        {
            await PublishWithTimeoutAsync(client, StatusMessage("online", protocol), birth).ConfigureAwait(false);
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
        using var timeout = new CallTimeout(drain.Token, _time);
        var message = new MqttApplicationMessage();
        reader.Rewind();
        try
        {
            while (reader.TryRead(out OutboxEntry entry))
            {
                await PublishRecordAsync(client, entry, message, protocol, timeout).ConfigureAwait(false);
            }

            await PublishWithTimeoutAsync(client, StatusMessage("offline", protocol), timeout).ConfigureAwait(false);
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
        // One message object and one timeout for the session: records go out one at a time, each after the previous one's
        // PUBACK, so neither is in use twice at once (MQTTnet copies the message's fields into its own packet).
        var message = new MqttApplicationMessage();
        using var timeout = new CallTimeout(cancellationToken, _time);
        while (true)
        {
            OutboxEntry entry = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            await PublishRecordAsync(client, entry, message, protocol, timeout).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes one outbox record (QoS 1) and acknowledges it in the outbox after the broker's PUBACK. The entry's payload
    /// is the reader's buffer, handed to MQTTnet without a copy: the reader is not read again until this returns, and by
    /// then MQTTnet is done with it (PublishAsync completes after the PUBACK, or fails, which ends the session).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PublishRecordAsync(IMqttClient client, OutboxEntry entry, MqttApplicationMessage message, MqttProtocol protocol, CallTimeout timeout)
    {
        SetRecordMessage(message, entry.Topic, entry.Payload, entry.TimestampMs, protocol, replay: false);
        while (true)
        {
            MqttClientPublishResult result = await PublishWithTimeoutAsync(client, message, timeout).ConfigureAwait(false);
            if (result.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers)
            {
                break;
            }

            if (result.ReasonCode is MqttClientPublishReasonCode.NotAuthorized or MqttClientPublishReasonCode.TopicNameInvalid
                or MqttClientPublishReasonCode.PayloadFormatInvalid or MqttClientPublishReasonCode.PacketIdentifierInUse)
            {
                // The broker will never take this one: skip it rather than block everything behind it.
                _state.OnRejected();
                Log.Rejected(_logger, entry.Sequence, entry.Topic, result.ReasonCode.ToString(), result.ReasonString);
                break;
            }

            // Quota exceeded, server busy, unspecified: the broker may take it later (the same message, payload still the reader's).
            Log.PublishDeferred(_logger, entry.Sequence, result.ReasonCode.ToString());
            await Task.Delay(TimeSpan.FromSeconds(1), _time, timeout.Outer).ConfigureAwait(false);
        }

        _outbox.Acknowledge(entry.Sequence);
        _state.OnPublished();
    }

    /// <summary>
    /// Makes <paramref name="message"/> carry an outbox record: QoS 1, and under MQTT 5 an expiry matching the outbox's age limit
    /// (a record the outbox would have dropped is not worth delivering either), the content type, and the replay flag.
    /// </summary>
    private void SetRecordMessage(MqttApplicationMessage message, string topic, ReadOnlyMemory<byte> payload, long timestampMs, MqttProtocol protocol, bool replay)
    {
        message.Topic = topic;
        message.Payload = new ReadOnlySequence<byte>(payload);
        message.QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce;
        if (protocol == MqttProtocol.V5)
        {
            TimeSpan age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(timestampMs);
            message.MessageExpiryInterval = (uint)Math.Max(1, (_outbox.MaxAge - age).TotalSeconds);
            message.ContentType = "application/json";
            message.PayloadFormatIndicator = MqttPayloadFormatIndicator.CharacterData;
            if (replay)
            {
                message.UserProperties = [new MQTTnet.Packets.MqttUserProperty("replay", s_true)];
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<MqttClientPublishResult> PublishWithTimeoutAsync(IMqttClient client, MqttApplicationMessage message, CallTimeout timeout)
    {
        CancellationToken token = timeout.Start(PublishTimeout);
        try
        {
            return await client.PublishAsync(message, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.Expired)
        {
            throw new TimeoutException($"no PUBACK for {message.Topic} within {_options.PublishTimeoutSeconds} s");
        }
        finally
        {
            timeout.Stop();
        }
    }

    private async Task LivenessLoopAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        using var timeout = new CallTimeout(cancellationToken, _time);
        while (true)
        {
            await Task.Delay(PingPeriod, _time, cancellationToken).ConfigureAwait(false);
            try
            {
                await client.PingAsync(timeout.Start(PingPeriod)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.Expired)
            {
                throw new TimeoutException($"no PINGRESP within {PingPeriod.TotalSeconds} s: the connection is silently dead");
            }
            finally
            {
                timeout.Stop();
            }
        }
    }

    private async Task HealthLoopAsync(IMqttClient client, MqttProtocol protocol, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_live.HealthInterval, _time);
        using var timeout = new CallTimeout(cancellationToken, _time);

        // A new interval (config/set) re-arms the timer at once rather than after the old, possibly long, period.
        using IDisposable subscription = _live.OnHealthIntervalChanged(period => timer.Period = period);
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
                builder.WithRetainFlag().WithMessageExpiryInterval((uint)_live.HealthIntervalSeconds).WithContentType("application/json");
            }

            await PublishWithTimeoutAsync(client, builder.Build(), timeout).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e, CancellationToken sessionToken)
    {
        MqttApplicationMessage message = e.ApplicationMessage;
        string topic = message.Topic;
        if (!topic.StartsWith(_topics.CommandPrefix, StringComparison.Ordinal) || topic.EndsWith("/reply", StringComparison.Ordinal))
        {
            // Our own replies (3.1.1 has no no-local) and anything else that matched the filter.
            return;
        }

        long length = message.Payload.Length;
        byte[]? payload = length <= _options.MaxCommandBytes ? message.Payload.ToArray() : null;
        string? responseTopic = IsValidResponseTopic(message.ResponseTopic) ? message.ResponseTopic : null;
        byte[]? correlation = message.CorrelationData is { Length: > 0 and <= 1024 } c ? c.ToArray() : null;
        var request = new CommandRequest(topic[_topics.CommandPrefix.Length..], payload, length, responseTopic, correlation);
        try
        {
            await _requests.Writer.WriteAsync(request, sessionToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (sessionToken.IsCancellationRequested)
        {
            // The session ended with the queue full: the request is not acknowledged, so a persistent session gets it again.
            Log.CommandNotQueued(_logger, topic);
        }
    }

    private static bool IsValidResponseTopic(string? topic) =>
        !string.IsNullOrEmpty(topic) && topic.Length <= 1024 && topic.IndexOfAny(['+', '#', '\0']) < 0;

    private async Task CommandLoopAsync(IMqttClient client, MqttProtocol protocol, CancellationToken cancellationToken)
    {
        using var timeout = new CallTimeout(cancellationToken, _time);
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

            await PublishWithTimeoutAsync(client, reply.Build(), timeout).ConfigureAwait(false);
            outcome.AfterReply?.Invoke();
            foreach (OutboxRecord record in outcome.Republish)
            {
                // Replays are rare and may run beside the publish loop: each gets its own message.
                var message = new MqttApplicationMessage();
                SetRecordMessage(message, record.Topic, record.Payload, record.TimestampMs, protocol, replay: true);
                await PublishWithTimeoutAsync(client, message, timeout).ConfigureAwait(false);
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

    /// <summary>
    /// One loop's timeout for its network calls, reused call after call (a timer-backed source plus a linked source per
    /// publish was a large share of the per-result allocations). The loop's own token cancels it through one registration
    /// per loop; <see cref="Stop"/> after each call re-arms it (<see cref="CancellationTokenSource.TryReset"/>, which also
    /// drops any registration MQTTnet left on it). Not thread-safe: one loop each.
    /// </summary>
    private sealed class CallTimeout : IDisposable
    {
        private readonly CancellationTokenSource _timeout;
        private readonly CancellationTokenRegistration _forward;

        /// <param name="outer">The loop's token (session or drain); cancelling it cancels the call under way.</param>
        /// <param name="time">The clock the timeouts run on.</param>
        public CallTimeout(CancellationToken outer, TimeProvider time)
        {
            Outer = outer;
            _timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
            _forward = outer.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _timeout);
        }

        /// <summary>The loop's token.</summary>
        public CancellationToken Outer { get; }

        /// <summary>Whether the call failed because its time ran out (not because the loop was cancelled).</summary>
        public bool Expired => _timeout.IsCancellationRequested && !Outer.IsCancellationRequested;

        /// <summary>Starts the clock for one call and returns the token to pass it.</summary>
        public CancellationToken Start(TimeSpan limit)
        {
            _timeout.CancelAfter(limit);
            return _timeout.Token;
        }

        /// <summary>Stops the clock after the call. Once it fired (or the loop was cancelled) it stays cancelled, and the loop ends.</summary>
        public void Stop() => _timeout.TryReset();

        public void Dispose()
        {
            _forward.Dispose();
            _timeout.Dispose();
        }
    }

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

        [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "MQTT command on {Topic} not queued: the session ended while 64 commands were waiting")]
        public static partial void CommandNotQueued(ILogger logger, string topic);

        [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "MQTT command {Command} answered (ok: {Succeeded})")]
        public static partial void CommandHandled(ILogger logger, string command, bool succeeded);

        [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "MQTT clean stop incomplete ({Reason}); {Pending} record(s) stay in the outbox for the next start")]
        public static partial void GoodbyeIncomplete(ILogger logger, string reason, long pending);
    }
}
