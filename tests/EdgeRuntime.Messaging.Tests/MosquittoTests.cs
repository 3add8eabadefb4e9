using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeRuntime.Messaging.Broker;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using Xunit.Abstractions;
using static EdgeRuntime.Messaging.Tests.Support.Delivery;

namespace EdgeRuntime.Messaging.Tests;

/// <summary>Against a real mosquitto started per test on a free loopback port.</summary>
public sealed class MosquittoTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("mqtt-test-").FullName;

    private string OutboxDirectory => Path.Combine(_directory, "outbox");

    [Fact]
    public async Task ResultsArriveInOrderWithNoneMissingAcrossABrokerRestartMidStream()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result");
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(broker.Port), OutboxDirectory);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);

        await runtime.PublishResultsAsync(1, 300);
        await subscriber.WaitForAsync(s => s.On("edge/line1/result").Length >= 100, s_wait, "the first results");
        broker.Stop();
        await runtime.PublishResultsAsync(301, 600);

        // The subscriber's own session died with the broker; a new one collects the rest.
        await broker.StartAsync();
        await using TestSubscriber second = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result", "replies/#");
        await second.WaitForAsync(s => ResultSeqs(s, "edge/line1/result").Contains(600), s_wait, "result 600 after the restart");

        long[] before = ResultSeqs(subscriber, "edge/line1/result");
        long[] after = ResultSeqs(second, "edge/line1/result");
        long resumeFrom = after.Min();
        AssertCompleteInOrder(before, 1, before.Max());
        AssertCompleteInOrder(after, resumeFrom, 600);

        // A record the killed broker had acknowledged but not yet forwarded died with it (it kept no
        // persistence). A consumer sees the gap in seq and asks the device's outbox for the range again.
        if (resumeFrom > before.Max() + 1)
        {
            string range = $"{{\"from\": {before.Max() + 1}, \"to\": {resumeFrom - 1}}}";
            await second.Client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic("edge/line1/cmd/replay").WithPayload(range).WithResponseTopic("replies/gap").Build());
            await second.WaitForAsync(
                s => Enumerable.Range((int)before.Max() + 1, (int)(resumeFrom - before.Max() - 1)).All(seq => ResultSeqs(s, "edge/line1/result").Contains(seq)),
                s_wait, "the replayed gap " + range);
        }

        long[] everything = before.Concat(ResultSeqs(second, "edge/line1/result")).Distinct().Order().ToArray();
        Assert.Equal(Enumerable.Range(1, 600).Select(i => (long)i), everything);
        Assert.Equal(0, runtime.Outbox.Status.Pending);
        Assert.True(runtime.State.Connects >= 2);
    }

    [Fact]
    public async Task BrokerDownAtStartIsNotFatalAndQueuedResultsArriveWhenItComesUp()
    {
        using var broker = new MosquittoBroker();
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(broker.Port), OutboxDirectory);
        await runtime.PublishResultsAsync(1, 50);
        Assert.False(runtime.State.IsConnected);
        Assert.Equal(50, runtime.Outbox.Status.Pending);

        await broker.StartAsync();
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result");
        await runtime.PublishResultsAsync(51, 60);
        await subscriber.WaitForAsync(s => ResultSeqs(s, "edge/line1/result").Contains(60), s_wait, "result 60");
        await MosquittoBroker.WaitUntilAsync(() => Task.FromResult(runtime.Outbox.Status.Pending == 0), s_wait, "the outbox to empty");
        Assert.Equal(60, runtime.Outbox.Status.Acknowledged);
    }

    [Fact]
    public async Task OutboxWrittenBeforeACrashIsDeliveredByTheNextStartEvenWithATornTail()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        MqttOptions options = RuntimeUnderTest.OptionsFor(broker.Port);

        // A runtime that never reached the broker (wrong port) queues 40 results, then "crashes" mid-write.
        MqttOptions unreachable = RuntimeUnderTest.OptionsFor(MosquittoBroker.FreePort());
        await using (RuntimeUnderTest first = await RuntimeUnderTest.StartAsync(unreachable, OutboxDirectory))
        {
            await first.PublishResultsAsync(1, 40);
        }

        string segment = Directory.GetFiles(OutboxDirectory, "*.seg").Single();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 7);
        }

        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result", "edge/line1/event");
        await using RuntimeUnderTest second = await RuntimeUnderTest.StartAsync(options, OutboxDirectory);
        Assert.Equal(1, second.Outbox.Status.CorruptOnOpen);
        await second.PublishResultsAsync(41, 45);
        await subscriber.WaitForAsync(s => ResultSeqs(s, "edge/line1/result").Contains(45), s_wait, "result 45");
        long[] received = ResultSeqs(subscriber, "edge/line1/result");
        Assert.Equal(Enumerable.Range(1, 39).Concat(Enumerable.Range(41, 5)).Select(i => (long)i), received.Distinct());

        // The torn record found on open is reported to the fleet as an event, not only counted in health.
        await subscriber.WaitForAsync(s => s.On("edge/line1/event").Length > 0, s_wait, "the outbox-corrupt event");
        JsonElement corrupt = TestSubscriber.Json(subscriber.On("edge/line1/event").Single());
        Assert.Equal("outbox-corrupt", corrupt.GetProperty("code").GetString());
        Assert.Equal(1, corrupt.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task LastWillReachesASubscriberWhenTheConnectionDiesWithoutGoodbyeAndOnlineReturns()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        using var proxy = new TcpProxy(broker.Port);
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/status");
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(proxy.Port), OutboxDirectory);
        await subscriber.WaitForAsync(s => s.On("edge/line1/status").Any(m => State(m) == "online"), s_wait, "the retained online birth message");

        proxy.CutAll();
        await subscriber.WaitForAsync(s => s.On("edge/line1/status").Any(m => State(m) == "offline"), s_wait, "the Last Will");
        await subscriber.WaitForAsync(s => State(s.On("edge/line1/status")[^1]) == "online", s_wait, "online again after reconnecting");
    }

    [Fact]
    public async Task SilentPartitionIsDetectedWithinOneAndAHalfKeepAlivesAndPublishingResumes()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        using var proxy = new TcpProxy(broker.Port);
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result");
        MqttOptions options = RuntimeUnderTest.OptionsFor(proxy.Port);
        options.KeepAliveSeconds = 2;
        options.PublishTimeoutSeconds = 30; // liveness, not a publish timeout, must find the dead link
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);

        proxy.BlackHole(true);
        var clock = Stopwatch.StartNew();
        await MosquittoBroker.WaitUntilAsync(() => Task.FromResult(!runtime.State.IsConnected), s_wait, "the dead link to be noticed");
        TimeSpan detected = clock.Elapsed;
        output.WriteLine($"silent partition detected after {detected.TotalMilliseconds:F0} ms (keep-alive 2 s)");
        Assert.True(detected <= TimeSpan.FromSeconds(3.2), $"took {detected}");

        await runtime.PublishResultsAsync(1, 20);
        proxy.BlackHole(false);
        proxy.CutAll();
        await subscriber.WaitForAsync(s => ResultSeqs(s, "edge/line1/result").Contains(20), s_wait, "results after the partition healed");
        AssertCompleteInOrder(ResultSeqs(subscriber, "edge/line1/result"), 1, 20);
    }

    [Fact]
    public async Task CommandsAreAnsweredWithCorrelationDataAndMalformedOnesWithErrors()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber requester = await TestSubscriber.ConnectAsync(broker.Port, "replies/#", "edge/line1/cmd/+/reply", "edge/line1/result");
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(broker.Port), OutboxDirectory);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);
        await runtime.PublishResultsAsync(1, 10);
        await requester.WaitForAsync(s => s.On("edge/line1/result").Length >= 10, s_wait, "10 results");

        async Task<JsonElement> AskAsync(string command, string payload, string correlation)
        {
            await requester.Client.PublishAsync(new MqttApplicationMessageBuilder()
                .WithTopic("edge/line1/cmd/" + command)
                .WithPayload(payload)
                .WithResponseTopic("replies/" + correlation)
                .WithCorrelationData(Encoding.UTF8.GetBytes(correlation))
                .Build());
            await requester.WaitForAsync(s => s.On("replies/" + correlation).Length > 0, s_wait, "the reply to " + command);
            MqttApplicationMessage reply = requester.On("replies/" + correlation)[0];
            Assert.Equal(correlation, Encoding.UTF8.GetString(reply.CorrelationData));
            return TestSubscriber.Json(reply);
        }

        Assert.Equal("ok", (await AskAsync("ping", "{}", "c1")).GetProperty("status").GetString());
        Assert.Equal("malformed", (await AskAsync("ping", "{not json", "c2")).GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("unknown-command", (await AskAsync("format-disk", "{}", "c3")).GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("payload-too-large", (await AskAsync("ping", new string('x', 20_000), "c4")).GetProperty("error").GetProperty("code").GetString());

        JsonElement replay = await AskAsync("replay", "{\"from\": 3, \"to\": 5}", "c5");
        Assert.Equal(3, replay.GetProperty("result").GetProperty("found").GetInt32());
        await requester.WaitForAsync(s => s.On("edge/line1/result").Length >= 13, s_wait, "the replayed results");
        Assert.Equal([3L, 4, 5], ResultSeqs(requester, "edge/line1/result").Skip(10));

        // Without a response topic (as a 3.1.1 client must ask), the reply goes to the conventional topic.
        await requester.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line1/cmd/ping").WithPayload("{\"id\":\"r9\"}").Build());
        await requester.WaitForAsync(s => s.On("edge/line1/cmd/ping/reply").Length > 0, s_wait, "the reply on cmd/ping/reply");
        Assert.Equal("r9", TestSubscriber.Json(requester.On("edge/line1/cmd/ping/reply")[0]).GetProperty("id").GetString());
        Assert.True(runtime.State.IsConnected);
    }

    [Fact]
    public async Task HealthIsPublishedRetainedWithOutboxAndConnectionState()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/health");
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(broker.Port), OutboxDirectory);
        await subscriber.WaitForAsync(s => s.On("edge/line1/health").Length >= 2, s_wait, "two health messages");
        MqttApplicationMessage message = subscriber.On("edge/line1/health")[^1];
        Assert.Equal(1u, message.MessageExpiryInterval);
        JsonElement health = TestSubscriber.Json(message);
        Assert.Equal("ready", health.GetProperty("state").GetString());
        Assert.True(health.GetProperty("books").GetProperty("balanced").GetBoolean());
        Assert.True(health.GetProperty("mqtt").GetProperty("connected").GetBoolean());
        Assert.Equal("defect-unet", health.GetProperty("model").GetProperty("model").GetProperty("id").GetString());
        Assert.True(health.GetProperty("disk").GetProperty("freeBytes").GetInt64() > 0);
    }

    [Fact]
    public async Task EmbeddedBrokerServesMosquittoSubOnTheSameMachine()
    {
        int port = MosquittoBroker.FreePort();
        MqttOptions options = RuntimeUnderTest.OptionsFor(port);
        options.Host = string.Empty;
        options.EmbeddedBroker = new EmbeddedBrokerOptions { Port = port };
        using var embedded = new EmbeddedBroker(Microsoft.Extensions.Options.Options.Create(options), NullLogger<EmbeddedBroker>.Instance);
        await embedded.StartAsync(CancellationToken.None);
        Assert.True(embedded.IsRunning);
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);

        // MQTTnet.Server refuses the empty client id that a 3.1.1 mosquitto_sub sends (it assigns ids only under MQTT 5), hence -V 5.
        var info = new ProcessStartInfo("mosquitto_sub", ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-V", "5", "-t", "edge/#", "-v", "-C", "20", "-W", "20"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using Process sub = Process.Start(info)!;
        Task<string> lines = sub.StandardOutput.ReadToEndAsync();

        // mosquitto_sub gets the retained status and health at once; results follow.
        await MosquittoBroker.WaitUntilAsync(async () =>
        {
            await runtime.PublishResultsAsync(1, 1);
            return lines.IsCompleted;
        }, s_wait, "mosquitto_sub to print 20 messages");
        string text = await lines;
        output.WriteLine(text);
        Assert.Contains("edge/line1/result {\"schema\":1,\"seq\":1,", text, StringComparison.Ordinal);
        await embedded.StopAsync(CancellationToken.None);
    }

    private static string? State(MqttApplicationMessage message) => TestSubscriber.Json(message).GetProperty("state").GetString();

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
