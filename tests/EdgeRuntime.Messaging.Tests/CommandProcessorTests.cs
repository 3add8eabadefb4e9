using System.Buffers;
using System.Text;
using System.Text.Json;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Messaging.Commands;
using EdgeRuntime.Messaging.Health;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using EdgeRuntime.Messaging.Tests.Support;

namespace EdgeRuntime.Messaging.Tests;

public sealed class CommandProcessorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("commands-test-").FullName;
    private readonly DurableOutbox _outbox;
    private readonly SoftwareTrigger _trigger = new(TimeProvider.System, capacity: 2);
    private readonly CommandProcessor _processor;

    public CommandProcessorTests()
    {
        _outbox = DurableOutbox.Open(_directory, new OutboxOptions(), TimeProvider.System, NullLogger.Instance);
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mqtt:Host"] = "broker.plant",
            ["Mqtt:Password"] = "hunter2",
            ["Mqtt:PasswordFile"] = "/etc/edge/pw",
            ["Pipeline:DeadlineMs"] = "800",
        }).Build();
        var models = new DelegateModelStatusSource(() => new ModelStatusReport("ready", "serving", TestResults.Model, "CPU", null));
        _processor = new CommandProcessor(1024, _trigger, models, configuration, _outbox, TimeProvider.System);
    }

    private JsonElement Run(string name, string payload, out CommandOutcome outcome)
    {
        outcome = _processor.Handle(name, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(payload)));
        return JsonDocument.Parse(outcome.Reply).RootElement.Clone();
    }

    private static string ErrorCode(JsonElement reply)
    {
        Assert.Equal("error", reply.GetProperty("status").GetString());
        return reply.GetProperty("error").GetProperty("code").GetString()!;
    }

    [Theory]
    [InlineData("ping", "{", "malformed")]
    [InlineData("ping", "[1,2]", "malformed")]
    [InlineData("ping", "\"text\"", "malformed")]
    [InlineData("ping", "{\"id\": {\"nested\": 1}}", "invalid-argument")]
    [InlineData("reboot-now", "{}", "unknown-command")]
    [InlineData("replay", "{}", "invalid-argument")]
    [InlineData("replay", "{\"from\": 10, \"to\": 5}", "invalid-argument")]
    [InlineData("replay", "{\"from\": 0, \"to\": 99999999}", "invalid-argument")]
    [InlineData("replay", "{\"from\": \"a\", \"to\": 5}", "invalid-argument")]
    [InlineData("capture", "{\"correlation\": 5}", "invalid-argument")]
    [InlineData("config/get", "{\"section\": \"Nope\"}", "not-found")]
    public void BadRequestsAreAnsweredWithAnErrorNamingWhatIsWrong(string name, string payload, string code)
    {
        JsonElement reply = Run(name, payload, out CommandOutcome outcome);
        Assert.False(outcome.Succeeded);
        Assert.Equal(code, ErrorCode(reply));
        Assert.False(string.IsNullOrWhiteSpace(reply.GetProperty("error").GetProperty("message").GetString()));
        Assert.Empty(outcome.Republish);
        Assert.Equal(0, _outbox.Status.Appended);
    }

    [Fact]
    public void OversizedPayloadIsRefusedUnread()
    {
        JsonElement reply = Run("ping", "{\"pad\":\"" + new string('x', 2000) + "\"}", out _);
        Assert.Equal("payload-too-large", ErrorCode(reply));
    }

    [Fact]
    public void ThousandsOfRandomPayloadsAreEachAnsweredAndNothingThrows()
    {
        var random = new Random(1234);
        string[] names = ["ping", "capture", "config/get", "model/status", "replay", "x", "replay/extra"];
        for (int i = 0; i < 5000; i++)
        {
            byte[] payload = new byte[random.Next(0, 64)];
            random.NextBytes(payload);
            if (i % 3 == 0 && payload.Length > 0)
            {
                payload[0] = (byte)'{';
            }

            CommandOutcome outcome = _processor.Handle(names[i % names.Length], new ReadOnlySequence<byte>(payload));
            JsonElement reply = JsonDocument.Parse(outcome.Reply).RootElement;
            Assert.Contains(reply.GetProperty("status").GetString(), new[] { "ok", "error" });
        }
    }

    [Fact]
    public void ThousandsOfHostileJsonValuesInEveryArgumentAreEachAnsweredWithoutSideEffects()
    {
        var random = new Random(4321);
        string[] values = ["null", "true", "-1", "1e400", "9223372036854775808", "0.5", "\"\"", "\"x\"", "[]", "{}", "[[[[1]]]]", "\"\\u0000\"", "12", "\"" + new string('a', 200) + "\""];
        string[] keys = ["id", "from", "to", "section", "correlation", "unknown"];
        string[] names = ["ping", "config/get", "model/status", "replay"];
        for (int i = 0; i < 3000; i++)
        {
            var parts = new List<string>();
            for (int k = random.Next(0, 4); k > 0; k--)
            {
                parts.Add($"\"{keys[random.Next(keys.Length)]}\": {values[random.Next(values.Length)]}");
            }

            JsonElement reply = Run(names[i % names.Length], "{" + string.Join(",", parts) + "}", out _);
            Assert.Contains(reply.GetProperty("status").GetString(), new[] { "ok", "error" });
            Assert.NotEqual("internal-error", reply.TryGetProperty("error", out JsonElement e) ? e.GetProperty("code").GetString() : null);
        }

        Assert.Equal(0, _outbox.Status.Appended);
    }

    [Fact]
    public void PingEchoesTheRequestId()
    {
        JsonElement reply = Run("ping", "{\"id\": \"r-17\"}", out CommandOutcome outcome);
        Assert.True(outcome.Succeeded);
        Assert.Equal("r-17", reply.GetProperty("id").GetString());
        Assert.True(reply.GetProperty("result").GetProperty("pong").GetBoolean());
    }

    [Fact]
    public async Task CaptureFiresTheSoftwareTriggerWithItsCorrelationAndRefusesWhenFull()
    {
        Run("capture", "{\"correlation\": \"part-4711\"}", out CommandOutcome first);
        Assert.True(first.Succeeded);
        await using IAsyncEnumerator<TriggerSignal> triggers = _trigger.ReadAllAsync(CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await triggers.MoveNextAsync());
        Assert.Equal("part-4711", triggers.Current.Correlation);

        Run("capture", "", out _);
        Run("capture", "", out _);
        JsonElement busy = Run("capture", "", out CommandOutcome third);
        Assert.False(third.Succeeded);
        Assert.Equal("busy", ErrorCode(busy));
    }

    [Fact]
    public void ConfigGetRedactsThePasswordButNotThePasswordFilePath()
    {
        JsonElement config = Run("config/get", "{\"section\": \"Mqtt\"}", out _).GetProperty("result").GetProperty("config");
        Assert.Equal("***", config.GetProperty("Password").GetString());
        Assert.Equal("/etc/edge/pw", config.GetProperty("PasswordFile").GetString());
        Assert.Equal("broker.plant", config.GetProperty("Host").GetString());
        Assert.DoesNotContain("hunter2", Encoding.UTF8.GetString(_processor.Handle("config/get", ReadOnlySequence<byte>.Empty).Reply), StringComparison.Ordinal);
    }

    [Fact]
    public void ModelStatusReportsTheServingModel()
    {
        JsonElement result = Run("model/status", "", out _).GetProperty("result");
        Assert.Equal("ready", result.GetProperty("phase").GetString());
        Assert.Equal("defect-unet", result.GetProperty("model").GetProperty("id").GetString());
    }

    [Fact]
    public void ModelStatusShowsTheGoldenCheckAndHowTheShadowModelAgrees()
    {
        DateTimeOffset now = TimeProvider.System.GetUtcNow();
        ModelStatusReport report = TestResults.DegradedModelWithShadow(now);
        var processor = new CommandProcessor(1024, null, new DelegateModelStatusSource(() => report), null, _outbox, TimeProvider.System);
        JsonElement result = JsonDocument.Parse(processor.Handle("model/status", ReadOnlySequence<byte>.Empty).Reply).RootElement.GetProperty("result");

        Assert.Equal("degraded", result.GetProperty("phase").GetString());
        JsonElement golden = result.GetProperty("golden");
        Assert.False(golden.GetProperty("passed").GetBoolean());
        Assert.Equal(12, golden.GetProperty("samples").GetInt32());
        Assert.Equal(report.Golden!.Reason, golden.GetProperty("reason").GetString());
        Assert.Equal(report.Golden.LastRunUtc, golden.GetProperty("lastRunUtc").GetDateTimeOffset());

        JsonElement shadow = result.GetProperty("shadow");
        Assert.Equal("1.3.0", shadow.GetProperty("model").GetProperty("version").GetString());
        Assert.Equal(117, shadow.GetProperty("compared").GetInt64());
        Assert.Equal(3, shadow.GetProperty("skipped").GetInt64());
        Assert.Equal(Math.Round(115 / 117.0, 4), shadow.GetProperty("agreementRate").GetDouble());
        Assert.Equal(0.9123, shadow.GetProperty("meanMaskIoU").GetDouble());
        Assert.Equal(
            ["41 FAIL/PASS 1/0", "97 PASS/FAIL 0/2"],
            shadow.GetProperty("lastDisagreements").EnumerateArray().Select(d =>
                $"{d.GetProperty("seq").GetInt64()} {d.GetProperty("verdict").GetString()}/{d.GetProperty("shadowVerdict").GetString()} "
                + $"{d.GetProperty("defects").GetInt32()}/{d.GetProperty("shadowDefects").GetInt32()}"));
    }

    [Fact]
    public void ModelStatusOfAShadowThatComparedNothingYetLeavesOutTheRates()
    {
        var processor = new CommandProcessor(1024, null, new DelegateModelStatusSource(() => TestResults.ReadyModelWithFreshShadow(DateTimeOffset.UtcNow)), null,
            _outbox, TimeProvider.System);
        JsonElement result = JsonDocument.Parse(processor.Handle("model/status", ReadOnlySequence<byte>.Empty).Reply).RootElement.GetProperty("result");

        Assert.True(result.GetProperty("golden").GetProperty("passed").GetBoolean());
        Assert.False(result.GetProperty("golden").TryGetProperty("reason", out _));
        JsonElement shadow = result.GetProperty("shadow");
        Assert.Equal("warming", shadow.GetProperty("phase").GetString());
        Assert.False(shadow.TryGetProperty("model", out _));
        Assert.False(shadow.TryGetProperty("agreementRate", out _));
        Assert.False(shadow.TryGetProperty("meanMaskIoU", out _));
        Assert.Equal(0, shadow.GetProperty("lastDisagreements").GetArrayLength());
    }

    [Fact]
    public void ModelStatusWithoutGoldenSamplesOrShadowLeavesBothOut()
    {
        JsonElement result = Run("model/status", "", out _).GetProperty("result");
        Assert.False(result.TryGetProperty("golden", out _));
        Assert.False(result.TryGetProperty("shadow", out _));
    }

    [Theory]
    [InlineData("{\"id\": \"\xff\xfe\"}")]
    [InlineData("{\"section\": \"Mqtt\xc3\x28\"}")]
    [InlineData("{\"\xe2\x28\xa1\": 1}")]
    public void InvalidUtf8InsideTheJsonIsRefusedAsMalformed(string latin1)
    {
        // Latin-1 maps each char to the byte of the same value: the payload carries exactly these bytes.
        byte[] payload = System.Text.Encoding.Latin1.GetBytes(latin1);
        CommandOutcome outcome = _processor.Handle("config/get", new ReadOnlySequence<byte>(payload));
        Assert.Equal("malformed", ErrorCode(JsonDocument.Parse(outcome.Reply).RootElement));
    }

    private (CommandProcessor Processor, RecordingConfigurationStore Store, RecordingRestarter Restarter) WithStoreAndRestarter()
    {
        var store = new RecordingConfigurationStore();
        var restarter = new RecordingRestarter();
        return (new CommandProcessor(4096, _trigger, null, null, _outbox, TimeProvider.System, store, restarter), store, restarter);
    }

    private static JsonElement Run(CommandProcessor processor, string name, string payload, out CommandOutcome outcome)
    {
        outcome = processor.Handle(name, new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(payload)));
        return JsonDocument.Parse(outcome.Reply).RootElement.Clone();
    }

    [Fact]
    public void ConfigSetHandsTheStoreEachValueAsTheBinderReadsItAndReportsHowEachTookEffect()
    {
        (CommandProcessor processor, RecordingConfigurationStore store, _) = WithStoreAndRestarter();
        store.LiveKeys.Add("Mqtt:HealthIntervalSeconds");
        JsonElement reply = Run(processor, "config/set",
            "{\"id\": 7, \"values\": {\"Mqtt:HealthIntervalSeconds\": 30, \"Pipeline:FailSafeVerdict\": \"Pass\", \"Archive:Enabled\": false, \"Archive:PassSampleRate\": 0.25}}",
            out CommandOutcome outcome);

        Assert.True(outcome.Succeeded);
        Assert.Equal(7, reply.GetProperty("id").GetInt32());
        Assert.Equal(
            [new("Mqtt:HealthIntervalSeconds", "30"), new("Pipeline:FailSafeVerdict", "Pass"), new("Archive:Enabled", "false"), new KeyValuePair<string, string>("Archive:PassSampleRate", "0.25")],
            Assert.Single(store.Updates));
        JsonElement keys = reply.GetProperty("result").GetProperty("keys");
        Assert.Equal("live", keys.GetProperty("Mqtt:HealthIntervalSeconds").GetString());
        Assert.Equal("restart-required", keys.GetProperty("Pipeline:FailSafeVerdict").GetString());
        Assert.True(reply.GetProperty("result").GetProperty("restartRequired").GetBoolean());
        Assert.Equal("/etc/edge-runtime/config.json", reply.GetProperty("result").GetProperty("file").GetString());
    }

    [Fact]
    public void ConfigSetListsEveryBadKeyAtOnceAndNeverReachesTheStore()
    {
        (CommandProcessor processor, RecordingConfigurationStore store, _) = WithStoreAndRestarter();
        JsonElement reply = Run(processor, "config/set",
            "{\"values\": {\"Mqtt\": 1, \"Mqtt:Password\": \"hunter2\", \"Pipeline:DeadlineMs\": null, \"Mqtt:Tls\": {\"Enabled\": true}, \"Mqtt:Port\": 1, \"MQTT:PORT\": 2}}",
            out CommandOutcome outcome);

        Assert.False(outcome.Succeeded);
        Assert.Equal("invalid-argument", ErrorCode(reply));
        string[] problems = reply.GetProperty("error").GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToArray();
        Assert.Equal(5, problems.Length);
        Assert.Contains(problems, p => p.StartsWith("\"Mqtt\": not a configuration path", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Mqtt:Password: secrets are not set over MQTT", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Pipeline:DeadlineMs: the value must be a string", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Mqtt:Tls: the value must be a string", StringComparison.Ordinal));
        Assert.Contains("MQTT:PORT: given twice", problems);
        Assert.DoesNotContain("hunter2", Encoding.UTF8.GetString(outcome.Reply), StringComparison.Ordinal);
        Assert.Empty(store.Updates);
    }

    [Fact]
    public void ConfigSetRefusedByTheStoreListsItsProblems()
    {
        (CommandProcessor processor, RecordingConfigurationStore store, _) = WithStoreAndRestarter();
        store.Refuse = ["Pipeline:DeadlineMs = 0: must be between 1 and 600000 milliseconds"];
        JsonElement reply = Run(processor, "config/set", "{\"values\": {\"Pipeline:DeadlineMs\": 0}}", out _);
        Assert.Equal("invalid-argument", ErrorCode(reply));
        Assert.Contains("Pipeline:DeadlineMs = 0: must be between 1 and 600000 milliseconds", reply.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(store.Refuse, reply.GetProperty("error").GetProperty("problems").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public void ConfigSetThatCannotBeWrittenIsUnavailableAndSaysWhy()
    {
        (CommandProcessor processor, RecordingConfigurationStore store, _) = WithStoreAndRestarter();
        store.Throw = new UnauthorizedAccessException("Access to the path '/etc/edge-runtime/.config.json.tmp' is denied.");
        JsonElement reply = Run(processor, "config/set", "{\"values\": {\"Pipeline:DeadlineMs\": 900}}", out _);
        Assert.Equal("unavailable", ErrorCode(reply));
        Assert.Contains("is denied", reply.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigSetAndRestartWithoutTheHostSeamsAreUnavailable()
    {
        Assert.Equal("unavailable", ErrorCode(Run("config/set", "{\"values\": {\"Pipeline:DeadlineMs\": 900}}", out _)));
        Assert.Equal("unavailable", ErrorCode(Run("restart", "{}", out _)));
    }

    [Fact]
    public void RestartRepliesFirstAndAsksTheHostOnlyOnceTheReplyIsOut()
    {
        (CommandProcessor processor, _, RecordingRestarter restarter) = WithStoreAndRestarter();
        JsonElement reply = Run(processor, "restart", "{\"delay\": 1.5}", out CommandOutcome outcome);
        Assert.True(outcome.Succeeded);
        Assert.Equal(1.5, reply.GetProperty("result").GetProperty("delaySeconds").GetDouble());
        Assert.Empty(restarter.Requests);

        outcome.AfterReply!.Invoke();
        Assert.Equal([TimeSpan.FromSeconds(1.5)], restarter.Requests);
        Assert.Equal("busy", ErrorCode(Run(processor, "restart", "{}", out CommandOutcome second)));
        Assert.Null(second.AfterReply);
    }

    [Theory]
    [InlineData("{\"delay\": -1}")]
    [InlineData("{\"delay\": 3601}")]
    [InlineData("{\"delay\": \"5\"}")]
    [InlineData("{\"delay\": null}")]
    public void RestartWithABadDelayIsRefusedAndRestartsNothing(string payload)
    {
        (CommandProcessor processor, _, RecordingRestarter restarter) = WithStoreAndRestarter();
        Assert.Equal("invalid-argument", ErrorCode(Run(processor, "restart", payload, out CommandOutcome outcome)));
        Assert.Null(outcome.AfterReply);
        Assert.Empty(restarter.Requests);
    }

    public void Dispose()
    {
        _outbox.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
