using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>A plain MQTTnet client that records everything it receives, for assertions.</summary>
public sealed class TestSubscriber : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentQueue<MqttApplicationMessage> _messages = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private TestSubscriber()
    {
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _messages.Enqueue(e.ApplicationMessage);
            _arrived.Release();
            return Task.CompletedTask;
        };
    }

    public IReadOnlyCollection<MqttApplicationMessage> Messages => _messages;

    public IMqttClient Client => _client;

    public static async Task<TestSubscriber> ConnectAsync(int port, params string[] filters)
    {
        var subscriber = new TestSubscriber();
        await subscriber._client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("test-" + Guid.NewGuid().ToString("N")[..8])
            .Build());
        foreach (string filter in filters)
        {
            await subscriber._client.SubscribeAsync(filter, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        }

        return subscriber;
    }

    public MqttApplicationMessage[] On(string topic) => _messages.Where(m => m.Topic == topic).ToArray();

    /// <summary>Waits (on arrivals, not a clock) until <paramref name="condition"/> holds.</summary>
    public async Task WaitForAsync(Func<TestSubscriber, bool> condition, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!condition(this))
        {
            try
            {
                await _arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds} s waiting for {what}; got {_messages.Count} message(s)");
            }
        }
    }

    public static JsonElement Json(MqttApplicationMessage message) => JsonDocument.Parse(message.Payload).RootElement.Clone();

    public static string Text(MqttApplicationMessage message) => Encoding.UTF8.GetString(message.Payload);

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
        _arrived.Dispose();
    }
}
