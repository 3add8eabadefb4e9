using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Messaging.Commands;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using EdgeRuntime.Messaging.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using static EdgeRuntime.Messaging.Tests.Support.PayloadSchemas;

namespace EdgeRuntime.Messaging.Tests;

/// <summary>
/// The JSON Schemas in runtime/EdgeRuntime.Messaging/Schemas against what the code really publishes, as a subscriber of a
/// real mosquitto receives it, and against what the device accepts as commands.
/// </summary>
public sealed class PayloadSchemaTests : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("mqtt-schema-").FullName;

    private string OutboxDirectory => Path.Combine(_directory, "outbox");

    private static IConfiguration Configuration() => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Mqtt:Host"] = "127.0.0.1",
        ["Mqtt:Password"] = "hunter2",
        ["Mqtt:Tls:Enabled"] = "false",
        ["Pipeline:DeadlineMs"] = "800",
    }).Build();

    private static Item[] Items(string schema, IEnumerable<MqttApplicationMessage> messages) =>
        messages.Select(m => new Item(schema, TestSubscriber.Json(m))).ToArray();

    [Fact]
    public async Task ResultsAndEventsAsASubscriberReceivesThemMatchTheirSchemas()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result", "edge/line1/event");
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(broker.Port), OutboxDirectory);

        await runtime.PublishResultsAsync(1, 12);
        var result = new InspectionResult();
        TestResults.Fill(result, 13);
        result.Trigger = result.Trigger with { Source = "software", Correlation = "part-4711" };
        result.Verdict = Verdict.Fail;
        result.AddDefect(new Defect(7, new PixelRect(0, 0, 3, 1), 3, 1f, 0.5f, 1f, 0.5f));
        await runtime.Sink.PublishAsync(result, null, CancellationToken.None);

        // A fail-safe result, as the pipeline publishes one: no frame, no model, a reason.
        result.Reset();
        result.Sequence = 14;
        result.FrameId = "frame-14";
        result.Trigger = new TriggerSignal(DateTimeOffset.UtcNow, 0, "gpio");
        result.Verdict = Verdict.Fail;
        result.Status = ResultStatus.DeadlineMissed;
        result.Reason = "no verdict within Pipeline:DeadlineMs (2000 ms)";
        result.Latencies.TotalMilliseconds = 2000.5;
        await runtime.Sink.PublishAsync(result, null, CancellationToken.None);

        Assert.True(runtime.Events.Raise("camera-lost", "error", "camera cam0 stopped delivering frames", 3));
        Assert.True(runtime.Events.Raise("model-swapped", "info", "defect-unet 1.2.0 -> 1.3.0"));

        await subscriber.WaitForAsync(s => s.On("edge/line1/result").Length >= 14 && s.On("edge/line1/event").Length >= 2, s_wait, "14 results and 2 events");
        await AssertValidAsync([.. Items("result.schema.json", subscriber.On("edge/line1/result")), .. Items("event.schema.json", subscriber.On("edge/line1/event"))]);
    }

    [Fact]
    public async Task StatusHealthAndCommandRepliesAsASubscriberReceivesThemMatchTheirSchemas()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        using var proxy = new TcpProxy(broker.Port);
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/status", "edge/line1/health", "replies/#", "edge/line1/cmd/+/reply");
        var store = new RecordingConfigurationStore();
        store.LiveKeys.Add(MqttLiveSettings.HealthIntervalKey);
        var restarter = new RecordingRestarter();
        var items = new List<Item>();
        await using (RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(RuntimeUnderTest.OptionsFor(proxy.Port), OutboxDirectory, Configuration(), store, restarter))
        {
            await runtime.PublishResultsAsync(1, 5);
            await subscriber.WaitForAsync(s => s.On("edge/line1/health").Length >= 1 && s.On("edge/line1/status").Length >= 1, s_wait, "status and health");

            (string Command, string Payload)[] requests =
            [
                ("ping", "{\"id\": \"r-1\"}"),
                ("capture", "{\"correlation\": \"part-4711\", \"id\": 2}"),
                ("config/get", ""),
                ("config/get", "{\"section\": \"Mqtt\"}"),
                ("config/get", "{\"section\": \"Pipeline:DeadlineMs\"}"),
                ("config/set", "{\"values\": {\"Mqtt:HealthIntervalSeconds\": 2, \"Pipeline:DeadlineMs\": 900}}"),
                ("model/status", "{}"),
                ("replay", "{\"from\": 2, \"to\": 4}"),
                ("restart", "{\"delay\": 30}"),
                ("restart", "{}"),
                ("replay", "{\"from\": \"x\"}"),
                ("config/set", "{\"values\": {\"Mqtt:Password\": \"x\", \"Nope\": 1}}"),
                ("format-disk", "{}"),
                ("ping", "{not json"),
                ("ping", new string(' ', 20_000)),
            ];
            for (int i = 0; i < requests.Length; i++)
            {
                await subscriber.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line1/cmd/" + requests[i].Command)
                    .WithPayload(requests[i].Payload).WithResponseTopic("replies/" + i).Build());
            }

            // Without a response topic: the conventional reply topic.
            await subscriber.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line1/cmd/ping").WithPayload("{\"id\": 3.5}").Build());
            await subscriber.WaitForAsync(s => Enumerable.Range(0, requests.Length).All(i => s.On("replies/" + i).Length == 1) && s.On("edge/line1/cmd/ping/reply").Length == 1,
                s_wait, "a reply to every command");

            for (int i = 0; i < requests.Length; i++)
            {
                JsonElement reply = TestSubscriber.Json(subscriber.On("replies/" + i)[0]);
                items.Add(new Item("command-reply.schema.json", reply));
                if (reply.GetProperty("status").GetString() == "ok")
                {
                    items.Add(new Item("command-reply.schema.json", reply.GetProperty("result"), ResultDefinition(requests[i].Command)));
                }
            }

            Assert.Equal(9, items.Count(i => i.Definition is not null));
            items.Add(new Item("command-reply.schema.json", TestSubscriber.Json(subscriber.On("edge/line1/cmd/ping/reply")[0])));

            // A connection that dies: the Last Will, then online again with the reason in health.
            proxy.CutAll();
            await subscriber.WaitForAsync(s => s.On("edge/line1/status").Count(m => State(m) == "online") >= 2, s_wait, "the will and a new birth");
            await subscriber.WaitForAsync(s => s.On("edge/line1/health").Any(m => TestSubscriber.Json(m).GetProperty("mqtt").TryGetProperty("lastError", out _)), s_wait, "health with the last error");
        }

        // The clean stop's goodbye.
        await subscriber.WaitForAsync(s => State(s.On("edge/line1/status")[^1]) == "offline", s_wait, "offline on the clean stop");
        MqttApplicationMessage[] statuses = subscriber.On("edge/line1/status");
        items.AddRange(Items("status.schema.json", statuses));
        items.AddRange(Items("health.schema.json", subscriber.On("edge/line1/health")));
        await AssertValidAsync(items);
    }

    [Fact]
    public async Task HealthWithEveryOptionalSourcePresentMatchesItsSchema()
    {
        // A board with thermal zones and their trip points, a GPU load file, GPU and CPU clocks, a pipeline in the process,
        // a model with a past failure.
        string sys = new FakeSysfs(Path.Combine(_directory, "sys"))
            .Zone(0, "CPU-therm", 48500, ("passive", 99000), ("critical", 104500))
            .Zone(1, "GPU-therm", 47000, ("passive", 99000), ("hot", 103000), ("critical", 104500))
            .GpuZero("17000000.gv11b", 675750000, 1377000000, [114750000, 675750000, 1377000000], 631)
            .CpuPolicy(0, 4, 1190400, 2265600, 2265600)
            .Root;
        // A serving model whose golden check disagrees, with a past load failure and a shadow model compared with it.
        Health.ModelStatusReport degraded = TestResults.DegradedModelWithShadow(DateTimeOffset.UtcNow) with { LastFailure = "golden sample 3 judged PASS, expected FAIL" };
        Health.ModelStatusReport report = degraded;
        var models = new Health.DelegateModelStatusSource(() => report);
        var health = new Health.HealthReporter(new Core.Pipeline.PipelineLedger(), new Core.Pipeline.LatencyStatistics(TimeProvider.System), new BusyPipeline(), models, Outbox(),
            new Connection.MqttConnectionState(), TimeProvider.System, sys);

        JsonElement payload = HealthJson.Of(health);
        Assert.Equal(63.1, payload.GetProperty("gpuLoadPercent").GetDouble());
        Assert.False(payload.GetProperty("throttling").GetProperty("thermal").GetBoolean());
        Assert.True(payload.TryGetProperty("queues", out _));
        Assert.Equal("degraded", payload.GetProperty("state").GetString());
        Assert.Contains("model: " + degraded.Message, payload.GetProperty("problems").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(117, payload.GetProperty("model").GetProperty("shadow").GetProperty("compared").GetInt64());
        Assert.False(payload.GetProperty("model").GetProperty("golden").GetProperty("passed").GetBoolean());

        // The same model once its check passes again, beside a shadow that has compared nothing yet.
        report = TestResults.ReadyModelWithFreshShadow(DateTimeOffset.UtcNow);
        JsonElement ready = HealthJson.Of(health);
        Assert.DoesNotContain(ready.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("model:", StringComparison.Ordinal));
        await AssertValidAsync([new Item("health.schema.json", payload), new Item("health.schema.json", ready)]);
    }

    private sealed class BusyPipeline : Health.IPipelineProbe
    {
        public Core.Pipeline.QueueDepths Depths => new(1, 1, 2, 0, 0, 3);

        public bool SourceEnded => false;
    }

    private static string? State(MqttApplicationMessage message) => TestSubscriber.Json(message).GetProperty("state").GetString();

    /// <summary>config/get -> configGetResult: the $defs name of a command's result.</summary>
    private static string ResultDefinition(string command) => CamelCase(command) + "Result";

    private static string CamelCase(string command)
    {
        string[] parts = command.Split('/');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }

    [Fact]
    public async Task TheSchemasRefuseWhatTheDeviceMustNeverSend()
    {
        // Real payloads, each broken in one way: the validator must see every break (the schemas are not vacuous).
        var result = new InspectionResult();
        TestResults.Fill(result, 3);
        JsonObject goodResult = JsonNode.Parse(ResultJson(result))!.AsObject();
        JsonObject goodReply = JsonNode.Parse(new CommandProcessor(1024, null, null, null, Outbox(), TimeProvider.System).Handle("ping", ReadOnlySequence<byte>.Empty).Reply)!.AsObject();
        var models = new Health.DelegateModelStatusSource(() => TestResults.DegradedModelWithShadow(DateTimeOffset.UtcNow));
        JsonObject goodModel = JsonNode.Parse(new CommandProcessor(1024, null, models, null, Outbox(), TimeProvider.System)
            .Handle("model/status", ReadOnlySequence<byte>.Empty).Reply)!["result"]!.AsObject();

        (string Schema, JsonObject Payload)[] broken =
        [
            ("result.schema.json", With(goodResult, r => r["verdict"] = "MAYBE")),
            ("result.schema.json", With(goodResult, r => r["seq"] = -1)),
            ("result.schema.json", With(goodResult, r => r.Remove("model"))),
            ("result.schema.json", With(goodResult, r => r["extra"] = 1)),
            ("result.schema.json", With(goodResult, r => r["triggerUtc"] = "yesterday")),
            ("result.schema.json", With(goodResult, r => r["reason"] = "inspected results carry no reason")),
            ("result.schema.json", With(goodResult, r => r["status"] = "dropped")),
            ("result.schema.json", With(goodResult, r => r["defects"]![0]!["bbox"] = new JsonArray(1, 2, 3))),
            ("result.schema.json", With(goodResult, r => r["defects"]![0]!["maxScore"] = 1.5)),
            ("command-reply.schema.json", With(goodReply, r => r["error"] = new JsonObject { ["code"] = "busy", ["message"] = "x" })),
            ("command-reply.schema.json", With(goodReply, r => r["status"] = "maybe")),
            ("command-reply.schema.json", With(goodReply, r => r.Remove("result"))),
            ("event.schema.json", JsonNode.Parse("""{"schema":1,"code":"Camera Lost","severity":"fatal","message":"","utc":"2026-11-22T10:00:00+00:00"}""")!.AsObject()),
            ("status.schema.json", JsonNode.Parse("""{"schema":1,"state":"online","clientId":"c","device":"d","runtimeVersion":"1"}""")!.AsObject()),
            ("status.schema.json", JsonNode.Parse("""{"schema":1,"state":"offline","clientId":"c","device":"d","runtimeVersion":"1","commands":["ping"]}""")!.AsObject()),
            ("command-reply.schema.json#modelStatusResult", With(goodModel, m => m["phase"] = "sulking")),
            ("command-reply.schema.json#modelStatusResult", With(goodModel, m => m["golden"]!.AsObject().Remove("reason"))),
            ("command-reply.schema.json#modelStatusResult", With(goodModel, m => m["golden"]!["passed"] = true)),
            ("command-reply.schema.json#modelStatusResult", With(goodModel, m => m["shadow"]!["agreementRate"] = 1.5)),
            ("command-reply.schema.json#modelStatusResult", With(goodModel, m => m["shadow"]!.AsObject().Remove("meanMaskIoU"))),
            ("command-reply.schema.json#modelStatusResult", With(goodModel, m => m["shadow"]!["compared"] = 0)),
            ("command-reply.schema.json#modelStatusResult", With(goodModel, m => m["shadow"]!["lastDisagreements"]![0]!["shadowVerdict"] = "FAIL")),
            ("command-reply.schema.json#modelStatusResult", With(goodModel, m => m["shadow"]!["lastDisagreements"]![1]!["maskIoU"] = -0.1)),
        ];
        Item[] items = broken.Select(b => b.Schema.Split('#') is [string schema, string definition]
            ? new Item(schema, JsonSerializer.SerializeToElement(b.Payload), definition)
            : new Item(b.Schema, JsonSerializer.SerializeToElement(b.Payload))).ToArray();
        string[][] errors = await ValidateAsync([new Item("result.schema.json", JsonSerializer.SerializeToElement(goodResult)),
            new Item("command-reply.schema.json", JsonSerializer.SerializeToElement(goodModel), "modelStatusResult"), .. items]);

        Assert.Empty(errors[0]);
        Assert.Empty(errors[1]);
        for (int i = 0; i < broken.Length; i++)
        {
            Assert.True(errors[i + 2].Length > 0, $"{broken[i].Schema} accepted {broken[i].Payload.ToJsonString()}");
        }
    }

    private static JsonObject With(JsonObject original, Action<JsonObject> change)
    {
        JsonObject copy = original.DeepClone().AsObject();
        change(copy);
        return copy;
    }

    private static string ResultJson(InspectionResult result)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Payloads.ResultPayload.Write(writer, result);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private DurableOutbox? _outbox;

    private DurableOutbox Outbox() => _outbox ??= DurableOutbox.Open(OutboxDirectory, new OutboxOptions(), TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task EveryRequestTheRequestSchemaRefusesTheDeviceRefusesAndTheDocumentedOnesItAccepts()
    {
        var models = new Health.DelegateModelStatusSource(() => new Health.ModelStatusReport("ready", "serving", TestResults.Model, "CPU", null));
        var processor = new CommandProcessor(16 * 1024, new SoftwareTrigger(TimeProvider.System), models, Configuration(), Outbox(), TimeProvider.System,
            new RecordingConfigurationStore(), new RecordingRestarter());
        var requests = new List<(string Name, byte[] Payload, JsonElement Json)>();
        foreach ((string name, byte[] payload) in HostileCommands.Generate(new Random(99), 3000, 16 * 1024))
        {
            if (CommandProcessor.Known.Contains(name) && TryParse(payload) is { } json)
            {
                requests.Add((name, payload, json));
            }
        }

        // The requests TOPICS.md documents.
        (string Name, string Payload)[] documented =
        [
            ("ping", "{}"), ("ping", "{\"id\": \"r-17\"}"), ("capture", "{\"correlation\": \"part-4711\"}"), ("config/get", "{\"section\": \"Pipeline\"}"),
            ("config/set", "{\"values\": {\"Mqtt:HealthIntervalSeconds\": 30, \"Pipeline:FailSafeVerdict\": \"Pass\", \"Archive:Enabled\": false}}"),
            ("model/status", "{}"), ("replay", "{\"from\": 1000, \"to\": 1099}"), ("restart", "{}"), ("restart", "{\"delay\": 5}"),
        ];
        int documentedFrom = requests.Count;
        requests.AddRange(documented.Select(d => (d.Name, Encoding.UTF8.GetBytes(d.Payload), JsonDocument.Parse(d.Payload).RootElement.Clone())));

        string[][] errors = await ValidateAsync(requests.Select(r => new Item("command-request.schema.json", r.Json, CamelCase(r.Name))).ToArray());
        int refusedBySchema = 0;
        for (int i = 0; i < requests.Count; i++)
        {
            JsonElement reply = JsonDocument.Parse(processor.Handle(requests[i].Name, new ReadOnlySequence<byte>(requests[i].Payload)).Reply).RootElement;
            string shown = $"{requests[i].Name} {requests[i].Json.GetRawText()}";
            if (i >= documentedFrom)
            {
                Assert.True(errors[i].Length == 0, $"the schema refuses the documented {shown}: {string.Join("; ", errors[i])}");
                Assert.True(reply.GetProperty("status").GetString() == "ok", $"the device refuses the documented {shown}: {reply.GetRawText()}");
            }
            else if (errors[i].Length > 0)
            {
                refusedBySchema++;
                Assert.True(reply.GetProperty("status").GetString() == "error", $"the schema refuses {shown} ({string.Join("; ", errors[i])}) but the device accepts it");
            }
        }

        Assert.True(refusedBySchema > 500, $"only {refusedBySchema} of {documentedFrom} hostile requests refused by the schema");
    }

    /// <summary>The payload as JSON, or null when it is none (the device answers those "malformed"; there is nothing to validate).</summary>
    private static JsonElement? TryParse(byte[] payload)
    {
        if (!System.Text.Unicode.Utf8.IsValid(payload))
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(payload);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _outbox?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
