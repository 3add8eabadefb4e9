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

    public void Dispose()
    {
        _outbox.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
