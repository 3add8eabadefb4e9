using System.Text.Json;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Tests.Support;
using MQTTnet;
using MQTTnet.Formatter;
using Xunit.Abstractions;

namespace EdgeRuntime.Messaging.Tests;

/// <summary>MQTT 3.1.1: configured explicitly, and reached by falling back from 5.0 when the broker predates it.</summary>
public sealed class Mqtt311Tests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("mqtt-311-").FullName;

    private string OutboxDirectory => Path.Combine(_directory, "outbox");

    /// <summary>A 3.1.1 client, as a legacy consumer on the plant network would be.</summary>
    private static async Task<IMqttClient> Connect311Async(int port, List<MqttApplicationMessage> received, params string[] filters)
    {
        IMqttClient client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            lock (received)
            {
                received.Add(e.ApplicationMessage);
            }

            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId("legacy-" + Guid.NewGuid().ToString("N")[..8]).Build());
        foreach (string filter in filters)
        {
            await client.SubscribeAsync(filter, MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        }

        return client;
    }

    private static MqttApplicationMessage[] On(List<MqttApplicationMessage> received, string topic)
    {
        lock (received)
        {
            return received.Where(m => m.Topic == topic).ToArray();
        }
    }

    /// <summary>Results arrive and commands are answered on {base}/cmd/{name}/reply, all over 3.1.1.</summary>
    private static async Task AssertResultsAndCommandsWorkAsync(RuntimeUnderTest runtime, int port)
    {
        var received = new List<MqttApplicationMessage>();
        using IMqttClient legacy = await Connect311Async(port, received, "edge/line1/result", "edge/line1/cmd/+/reply");
        await runtime.PublishResultsAsync(1, 30);
        await MosquittoBroker.WaitUntilAsync(() => Task.FromResult(On(received, "edge/line1/result").Length >= 30), s_wait, "30 results over 3.1.1");
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i),
            On(received, "edge/line1/result").Select(m => TestSubscriber.Json(m).GetProperty("seq").GetInt64()).Distinct());

        await legacy.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line1/cmd/ping").WithPayload("{\"id\":\"legacy-1\"}").Build());
        await legacy.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line1/cmd/replay").WithPayload("{\"id\":2,\"from\":\"x\"}").Build());
        await MosquittoBroker.WaitUntilAsync(
            () => Task.FromResult(On(received, "edge/line1/cmd/ping/reply").Length > 0 && On(received, "edge/line1/cmd/replay/reply").Length > 0),
            s_wait, "the replies on cmd/{name}/reply");
        JsonElement pong = TestSubscriber.Json(Assert.Single(On(received, "edge/line1/cmd/ping/reply")));
        Assert.Equal("legacy-1", pong.GetProperty("id").GetString());
        Assert.True(pong.GetProperty("result").GetProperty("pong").GetBoolean());
        JsonElement refused = TestSubscriber.Json(Assert.Single(On(received, "edge/line1/cmd/replay/reply")));
        Assert.Equal("invalid-argument", refused.GetProperty("error").GetProperty("code").GetString());
        await legacy.DisconnectAsync();
    }

    [Fact]
    public async Task ConfiguredMqtt311PublishesResultsAndAnswersCommandsOnTheReplyTopic()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        MqttOptions options = RuntimeUnderTest.OptionsFor(broker.Port);
        options.ProtocolVersion = MqttProtocol.V311;
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);
        Assert.Equal("3.1.1", runtime.State.Snapshot().Protocol);
        await AssertResultsAndCommandsWorkAsync(runtime, broker.Port);
    }

    [Fact]
    public async Task BrokerThatRefusesMqtt5AsA311BrokerDoesIsReachedOver311()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        using var legacyBroker = new TcpProxy(broker.Port) { Mqtt311Only = true };
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(legacyBroker.Port), OutboxDirectory);
        try
        {
            await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);
        }
        finally
        {
            output.WriteLine(runtime.State.Snapshot().LastError ?? "(no error)");
        }

        Assert.Equal("3.1.1", runtime.State.Snapshot().Protocol);
        Assert.True(legacyBroker.RefusedV5 >= 1);
        await AssertResultsAndCommandsWorkAsync(runtime, legacyBroker.Port);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
