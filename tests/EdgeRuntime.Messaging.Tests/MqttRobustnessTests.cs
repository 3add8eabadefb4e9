using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Tests.Support;
using Microsoft.Extensions.Configuration;
using MQTTnet;
using Xunit.Abstractions;
using static EdgeRuntime.Messaging.Tests.Support.Delivery;

namespace EdgeRuntime.Messaging.Tests;

/// <summary>Hostile commands and a connection cut at random moments, through a real mosquitto.</summary>
public sealed class MqttRobustnessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("mqtt-robust-").FullName;

    private string OutboxDirectory => Path.Combine(_directory, "outbox");

    private static IConfiguration Configuration() => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Mqtt:Host"] = "127.0.0.1",
        ["Pipeline:DeadlineMs"] = "800",
    }).Build();

    private static byte[] Correlation(int index)
    {
        byte[] data = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(data, index);
        return data;
    }

    [Fact]
    public async Task ThousandsOfHostileCommandsThroughTheBrokerGetExactlyOneErrorReplyEachAndChangeNothing()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber requester = await TestSubscriber.ConnectAsync(broker.Port, "fuzz/replies");
        var store = new RecordingConfigurationStore();
        var restarter = new RecordingRestarter();
        MqttOptions options = RuntimeUnderTest.OptionsFor(broker.Port);
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory, Configuration(), store, restarter);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);

        List<(string Name, byte[] Payload)> cases = HostileCommands.Generate(new Random(20261122), 2500, options.MaxCommandBytes);

        // Up to 256 requests outstanding: more than the device's queue of 64, so its back-pressure is exercised, and
        // fewer than mosquitto's default per-client queue of 1000, which would drop the rest as any broker may.
        const int window = 256;
        for (int i = 0; i < cases.Count; i++)
        {
            if (i >= window)
            {
                await requester.WaitForAsync(s => s.Messages.Count > i - window, s_wait, $"replies to keep {window} requests outstanding");
            }

            await requester.Client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic("edge/line1/cmd/" + cases[i].Name)
                .WithPayload(cases[i].Payload)
                .WithResponseTopic("fuzz/replies")
                .WithCorrelationData(Correlation(i))
                .Build());
        }

        // Replies come back in request order through one broker: once the final ping's has arrived, every earlier one has.
        await requester.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line1/cmd/ping").WithPayload("{\"id\":\"last\"}")
            .WithResponseTopic("fuzz/replies").WithCorrelationData(Correlation(cases.Count)).Build());
        await requester.WaitForAsync(s => s.Messages.Any(m => BinaryPrimitives.ReadInt32BigEndian(m.CorrelationData) == cases.Count), s_wait, "the final ping's reply");

        var replies = requester.On("fuzz/replies").GroupBy(m => BinaryPrimitives.ReadInt32BigEndian(m.CorrelationData)).ToDictionary(g => g.Key, g => g.ToArray());
        var codes = new Dictionary<string, int>();
        for (int i = 0; i < cases.Count; i++)
        {
            Assert.True(replies.TryGetValue(i, out MqttApplicationMessage[]? answers), $"no reply to #{i} {cases[i].Name}: {Shown(cases[i].Payload)}");
            MqttApplicationMessage reply = Assert.Single(answers);
            JsonElement json = TestSubscriber.Json(reply);
            Assert.True(json.GetProperty("status").GetString() == "error", $"#{i} {cases[i].Name} {Shown(cases[i].Payload)} was accepted: {TestSubscriber.Text(reply)}");
            string code = json.GetProperty("error").GetProperty("code").GetString()!;
            Assert.NotEqual("internal-error", code);
            codes[code] = codes.GetValueOrDefault(code) + 1;
        }

        JsonElement pong = TestSubscriber.Json(Assert.Single(replies[cases.Count]));
        Assert.Equal("ok", pong.GetProperty("status").GetString());
        output.WriteLine(string.Join(", ", codes.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}")));
        foreach (string expected in (string[])["malformed", "invalid-argument", "unknown-command", "payload-too-large", "not-found"])
        {
            Assert.True(codes.ContainsKey(expected), "no request was refused as " + expected);
        }

        // Still the first session, and nothing changed: no configuration written, no restart, no trigger, nothing queued.
        Assert.True(runtime.State.IsConnected);
        Assert.Equal(1, runtime.State.Connects);
        Assert.Empty(store.Updates);
        Assert.Empty(restarter.Requests);
        Assert.Equal(0, runtime.Outbox.Status.Appended);
        for (int i = 0; i < 64; i++)
        {
            Assert.True(runtime.Trigger.Fire(), "a hostile capture left a software trigger waiting");
        }

        Assert.False(runtime.Trigger.Fire());
    }

    private static string Shown(byte[] payload) => payload.Length > 120 ? $"{payload.Length} bytes" : Encoding.UTF8.GetString(payload);

    [Fact]
    public async Task ResultsArriveInOrderWithNoneMissingWhileTheConnectionIsCutAtRandomMoments()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        using var proxy = new TcpProxy(broker.Port);
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result");
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(proxy.Port), OutboxDirectory);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);

        const int results = 2000;
        const int cuts = 15;
        Task producer = Task.Run(async () =>
        {
            var random = new Random(17);
            long seq = 1;
            while (seq <= results)
            {
                long to = Math.Min(results, seq + random.Next(1, 40));
                await runtime.PublishResultsAsync(seq, to);
                seq = to + 1;
                await Task.Delay(random.Next(0, 6));
            }
        });

        var cutter = new Random(4711);
        for (int cut = 0; cut < cuts; cut++)
        {
            // Each cut hits a session the runtime has established since the last cut, at a random moment into it.
            await MosquittoBroker.WaitUntilAsync(() => Task.FromResult(runtime.State.Connects > cut && runtime.State.IsConnected), s_wait, $"session {cut + 1}");
            await Task.Delay(cutter.Next(5, 120));
            proxy.CutAll();
        }

        await producer.WaitAsync(s_wait);
        await subscriber.WaitForAsync(s => ResultSeqs(s, "edge/line1/result").Distinct().Count() >= results, s_wait, $"all {results} results");
        long[] received = ResultSeqs(subscriber, "edge/line1/result");
        output.WriteLine($"{received.Length} messages for {results} results, {runtime.State.Connects} sessions, {proxy.Accepted} TCP connections");
        AssertCompleteInOrder(received, 1, results);
        Assert.True(runtime.State.Connects > cuts, $"only {runtime.State.Connects} sessions for {cuts} cuts");
        Assert.True(producer.IsCompletedSuccessfully);
        await MosquittoBroker.WaitUntilAsync(() => Task.FromResult(runtime.Outbox.Status.Pending == 0), s_wait, "the outbox to empty");
    }

    [Fact]
    public async Task ConfigSetAndRestartAreAnsweredBeforeTheyTakeEffect()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber requester = await TestSubscriber.ConnectAsync(broker.Port, "replies/#");
        var store = new RecordingConfigurationStore();
        store.LiveKeys.Add(MqttLiveSettings.HealthIntervalKey);
        var restarter = new RecordingRestarter();
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(broker.Port), OutboxDirectory, Configuration(), store, restarter);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);

        async Task<JsonElement> AskAsync(string command, string payload)
        {
            string topic = "replies/" + Guid.NewGuid().ToString("N");
            await requester.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line1/cmd/" + command).WithPayload(payload).WithResponseTopic(topic).Build());
            await requester.WaitForAsync(s => s.On(topic).Length > 0, s_wait, "the reply to " + command);
            return TestSubscriber.Json(requester.On(topic)[0]);
        }

        JsonElement set = await AskAsync("config/set", "{\"values\": {\"Mqtt:HealthIntervalSeconds\": 5, \"Pipeline:DeadlineMs\": \"900\"}}");
        Assert.Equal("ok", set.GetProperty("status").GetString());
        Assert.Equal("live", set.GetProperty("result").GetProperty("keys").GetProperty("Mqtt:HealthIntervalSeconds").GetString());
        Assert.Equal("restart-required", set.GetProperty("result").GetProperty("keys").GetProperty("Pipeline:DeadlineMs").GetString());
        Assert.True(set.GetProperty("result").GetProperty("restartRequired").GetBoolean());
        Assert.Equal([new KeyValuePair<string, string>("Mqtt:HealthIntervalSeconds", "5"), new("Pipeline:DeadlineMs", "900")], Assert.Single(store.Updates));

        store.Refuse = ["Pipeline:DeadlineMs = 0: must be between 1 and 600000 milliseconds", "Mqtt:Port = 0: must be between 1 and 65535"];
        JsonElement refused = await AskAsync("config/set", "{\"values\": {\"Pipeline:DeadlineMs\": 0, \"Mqtt:Port\": 0}}");
        Assert.Equal("invalid-argument", refused.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(store.Refuse, refused.GetProperty("error").GetProperty("problems").EnumerateArray().Select(p => p.GetString()));

        JsonElement restart = await AskAsync("restart", "{\"delay\": 2}");
        Assert.True(restart.GetProperty("result").GetProperty("restarting").GetBoolean());
        await MosquittoBroker.WaitUntilAsync(() => Task.FromResult(restarter.Requests.Count == 1), s_wait, "the restart request");
        Assert.Equal(TimeSpan.FromSeconds(2), restarter.Requests[0]);
        Assert.Equal("busy", (await AskAsync("restart", "{}")).GetProperty("error").GetProperty("code").GetString());
        Assert.Single(restarter.Requests);
    }

    [Fact]
    public async Task ANewHealthIntervalTakesEffectAtOnceWithoutAReconnect()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/health");
        MqttOptions options = RuntimeUnderTest.OptionsFor(broker.Port);
        options.HealthIntervalSeconds = 3600;
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory);

        // The first health goes out on connect; the next would be an hour away.
        await subscriber.WaitForAsync(s => s.On("edge/line1/health").Length >= 1, s_wait, "the health on connect");
        Assert.Equal(3600u, subscriber.On("edge/line1/health")[0].MessageExpiryInterval);
        Assert.True(runtime.Live.TryApplyLive("mqtt:healthintervalseconds", "1"));
        await subscriber.WaitForAsync(s => s.On("edge/line1/health").Length >= 3, s_wait, "health every second");
        Assert.Equal(1u, subscriber.On("edge/line1/health")[^1].MessageExpiryInterval);
        Assert.Equal(1, runtime.State.Connects);
        Assert.False(runtime.Live.TryApplyLive("Mqtt:KeepAliveSeconds", "5"));
    }

    [Fact]
    public async Task ACommandSentTheMomentTheBirthMessageArrivesIsAnswered()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        using var proxy = new TcpProxy(broker.Port);
        await using TestSubscriber requester = await TestSubscriber.ConnectAsync(broker.Port, "replies/#");
        int births = 0;

        // "online" promises that commands are heard: a consumer may ask at once, from inside its receive handler.
        requester.Client.ApplicationMessageReceivedAsync += async e =>
        {
            if (e.ApplicationMessage.Topic == "edge/line1/status" && TestSubscriber.Json(e.ApplicationMessage).GetProperty("state").GetString() == "online")
            {
                int birth = Interlocked.Increment(ref births);
                await requester.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line1/cmd/ping")
                    .WithPayload($"{{\"id\": {birth}}}").WithResponseTopic("replies/birth").Build());
            }
        };
        await requester.Client.SubscribeAsync("edge/line1/status", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce);
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(proxy.Port), OutboxDirectory);
        for (int birth = 1; birth <= 4; birth++)
        {
            await requester.WaitForAsync(s => s.On("replies/birth").Length >= birth, s_wait, $"the reply to the ping sent on birth {birth}");
            proxy.CutAll();
        }

        Assert.Equal([1, 2, 3, 4], requester.On("replies/birth").Select(m => TestSubscriber.Json(m).GetProperty("id").GetInt32()).Take(4));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
