using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRuntime.Host.Composition;
using EdgeRuntime.Host.Configuration;
using EdgeRuntime.Messaging.Commands;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using Xunit.Abstractions;

namespace EdgeRuntime.IntegrationTests;

/// <summary>
/// <c>config/set</c> and <c>restart</c> as the host wires them: the real configuration check, the real file, the real
/// process and its exit code.
/// </summary>
public sealed class ConfigurationCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("edge-config-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    /// <summary>What the test machine needs to compose the service (the model and samples of the repository).</summary>
    private Dictionary<string, string?> Overrides() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Model:Package"] = RepositoryPaths.SampleModel,
        ["Source:Replay:Directory"] = RepositoryPaths.Samples,
        ["Pipeline:StateDirectory"] = _state,
        ["Archive:Directory"] = Path.Combine(_state, "archive"),
    };

    private static (IHost Host, IConfigurationStore Store, MqttLiveSettings Live) Compose(EdgeConfiguration configuration)
    {
        IHost host = EdgeHost.Build(configuration, TextWriter.Null, out OptionsRegistry registry);
        Assert.Empty(registry.Check(host.Services, configuration.Root));
        return (host, host.Services.GetRequiredService<IConfigurationStore>(), host.Services.GetRequiredService<MqttLiveSettings>());
    }

    private static KeyValuePair<string, string>[] Values(params (string Key, string Value)[] values) =>
        values.Select(v => new KeyValuePair<string, string>(v.Key, v.Value)).ToArray();

    private string[] TemporaryFiles() => Directory.GetFiles(_state, "*.tmp");

    [Fact]
    public void ConfigSetWritesTheFileAtomicallyAndAppliesOnlyLiveKeysLive()
    {
        string file = Path.Combine(_state, "config.json");
        const string original = """
        {
          // The line's settings.
          "pipeline": { "DeadlineMs": 2000, "MaxInFlight": 4 },
          "Mqtt": { "HealthIntervalSeconds": 10 }
        }
        """;
        File.WriteAllText(file, original);
        EdgeConfiguration configuration = EdgeConfiguration.Build(file, Overrides());
        Assert.Equal(Path.GetFullPath(file), configuration.WritableFile);
        (IHost host, IConfigurationStore store, MqttLiveSettings live) = Compose(configuration);
        using (host)
        {
            ConfigurationUpdate update = store.Update(Values(("Mqtt:HealthIntervalSeconds", "3"), ("Pipeline:DeadlineMs", "900"), ("Trigger:IntervalMs", "250"), ("Pipeline:FailSafeVerdict", "Pass")));

            Assert.True(update.Accepted, string.Join("; ", update.Problems));
            Assert.Equal(Path.GetFullPath(file), update.File);
            Assert.Equal(
                [new("Mqtt:HealthIntervalSeconds", KeyApplication.Live), new("Pipeline:DeadlineMs", KeyApplication.RestartRequired),
                 new("Trigger:IntervalMs", KeyApplication.RestartRequired), new KeyValuePair<string, KeyApplication>("Pipeline:FailSafeVerdict", KeyApplication.RestartRequired)],
                update.Keys);
            Assert.Equal(3, live.HealthIntervalSeconds);
        }

        // Numbers stay numbers, existing sections keep their spelling, untouched keys stay; the old file is the .bak.
        JsonObject written = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        Assert.Equal(900, written["pipeline"]!["DeadlineMs"]!.GetValue<int>());
        Assert.Equal(4, written["pipeline"]!["MaxInFlight"]!.GetValue<int>());
        Assert.Equal("Pass", written["pipeline"]!["FailSafeVerdict"]!.GetValue<string>());
        Assert.Equal(250, written["Trigger"]!["IntervalMs"]!.GetValue<int>());
        Assert.Null(written["Pipeline"]);
        Assert.Equal(original, File.ReadAllText(file + ".bak"));
        Assert.Empty(TemporaryFiles());

        // The next start reads what was written, and it passes the start-up check.
        EdgeConfiguration next = EdgeConfiguration.Build(file, Overrides());
        Assert.Equal("900", next.Root["Pipeline:DeadlineMs"]);
        using IHost restarted = EdgeHost.Build(next, TextWriter.Null, out OptionsRegistry registry);
        Assert.Empty(registry.Check(restarted.Services, next.Root));
    }

    [Fact]
    public void ConfigSetWithProblemsListsEveryOneAndChangesNothing()
    {
        string file = Path.Combine(_state, "config.json");
        File.WriteAllText(file, """{ "Pipeline": { "DeadlineMs": 2000 } }""");
        byte[] before = File.ReadAllBytes(file);
        (IHost host, IConfigurationStore store, MqttLiveSettings live) = Compose(EdgeConfiguration.Build(file, Overrides()));
        using (host)
        {
            ConfigurationUpdate update = store.Update(Values(
                ("Mqtt:HealthIntervalSeconds", "2"), ("Pipeline:DeadlineMs", "-5"), ("Pipeline:MaxInFlgiht", "3"), ("Trigger:Kind", "Laser"),
                ("Mqtt:KeepAliveSeconds", "abc"), ("Pipeline:DeadlineMs:Extra", "1")));

            Assert.False(update.Accepted);
            Assert.Contains(update.Problems, p => p.StartsWith("Pipeline:DeadlineMs = -5: must be between 1 and 600000", StringComparison.Ordinal));
            Assert.Contains(update.Problems, p => p.StartsWith("Pipeline:MaxInFlgiht: unknown key", StringComparison.Ordinal));
            Assert.Contains(update.Problems, p => p.StartsWith("Trigger:Kind = \"Laser\": must be one of", StringComparison.Ordinal));
            Assert.Contains(update.Problems, p => p.StartsWith("Mqtt:KeepAliveSeconds = \"abc\": must be a whole number", StringComparison.Ordinal));
            Assert.Contains("Pipeline:DeadlineMs:Extra: Pipeline:DeadlineMs holds a value in the file, not a section", update.Problems);
            Assert.Null(update.File);
            Assert.Empty(update.Keys);

            // The valid key in the same request is not applied either.
            Assert.Equal(10, live.HealthIntervalSeconds);
        }

        Assert.Equal(before, File.ReadAllBytes(file));
        Assert.False(File.Exists(file + ".bak"));
        Assert.Empty(TemporaryFiles());
    }

    [Fact]
    public void ConfigSetOfAKeyThatASourceAboveTheFileSetsIsRefused()
    {
        string file = Path.Combine(_state, "config.json");
        File.WriteAllText(file, "{}");
        Dictionary<string, string?> overrides = Overrides();
        overrides["Pipeline:DeadlineMs"] = "1000";
        (IHost host, IConfigurationStore store, _) = Compose(EdgeConfiguration.Build(file, overrides));
        using (host)
        {
            ConfigurationUpdate update = store.Update(Values(("Pipeline:DeadlineMs", "900")));
            Assert.Equal("Pipeline:DeadlineMs: set by an override given at start-up, which wins over the file", Assert.Single(update.Problems));
        }

        Assert.Equal("{}", File.ReadAllText(file));
    }

    [Fact]
    public void OnTheEmbeddedDefaultChangesGoToTheStateDirectoryAndAreReadAtTheNextStart()
    {
        EdgeConfiguration configuration = EdgeConfiguration.Build(null, Overrides());
        Assert.Null(configuration.ConfigFile);
        string overrideFile = Path.Combine(_state, EdgeConfiguration.StateOverrideFileName);
        Assert.Equal(overrideFile, configuration.WritableFile);
        (IHost host, IConfigurationStore store, _) = Compose(configuration);
        using (host)
        {
            Assert.True(store.Update(Values(("Pipeline:DeadlineMs", "1500"))).Accepted);
        }

        EdgeConfiguration next = EdgeConfiguration.Build(null, Overrides());
        Assert.Equal(overrideFile, next.ConfigFile);
        Assert.Equal("1500", next.Root["Pipeline:DeadlineMs"]);
        Assert.Contains(overrideFile, next.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartStopsTheHostGracefullyWithTheRestartExitCode()
    {
        var lifetime = new RecordingLifetime();
        using var restarter = new HostRestarter(lifetime, TimeProvider.System, NullLogger<HostRestarter>.Instance);
        int exitCode = Environment.ExitCode;
        try
        {
            Assert.True(restarter.RequestRestart(TimeSpan.FromMilliseconds(50), "test"));
            Assert.True(restarter.RestartPending);
            Assert.False(restarter.RequestRestart(TimeSpan.Zero, "again"));
            await lifetime.Stopping.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(4, Environment.ExitCode);
            Assert.Equal(1, lifetime.StopCalls);
        }
        finally
        {
            Environment.ExitCode = exitCode;
        }
    }

    private sealed class RecordingLifetime : IHostApplicationLifetime
    {
        private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _stopCalls;

        public Task Stopping => _stopping.Task;

        public int StopCalls => Volatile.Read(ref _stopCalls);

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
            Interlocked.Increment(ref _stopCalls);
            _stopping.TrySetResult();
        }
    }

    [Fact]
    public async Task TheRunningServiceAnswersConfigSetAndRestartOverMqttThenExitsForItsSupervisor()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber requester = await TestSubscriber.ConnectAsync(broker.Port, "replies/#", "edge/line9/status");
        string file = Path.Combine(_state, "config.json");
        var config = new JsonObject
        {
            ["Model"] = new JsonObject { ["Package"] = RepositoryPaths.SampleModel },
            ["Source"] = new JsonObject { ["Kind"] = "Replay", ["Replay"] = new JsonObject { ["Directory"] = RepositoryPaths.Samples } },
            ["Pipeline"] = new JsonObject { ["StateDirectory"] = _state, ["DeadlineMs"] = 120000 },
            ["Reject"] = new JsonObject { ["DelayMs"] = 120000 },
            ["Archive"] = new JsonObject { ["Enabled"] = false },
            ["Mqtt"] = new JsonObject { ["Host"] = "127.0.0.1", ["Port"] = broker.Port, ["DeviceId"] = "line9", ["HealthIntervalSeconds"] = 10 },
        };
        await File.WriteAllTextAsync(file, config.ToJsonString());

        using Process process = RuntimeProcess.Start($"run --config \"{file}\"");
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            TimeSpan wait = TimeSpan.FromMinutes(2);
            await requester.WaitForAsync(s => s.On("edge/line9/status").Any(m => State(m) == "online"), wait, "the service's birth message");

            async Task<JsonElement> AskAsync(string command, string payload)
            {
                string topic = "replies/" + command;
                await requester.Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("edge/line9/cmd/" + command).WithPayload(payload).WithResponseTopic(topic).Build());
                await requester.WaitForAsync(s => s.On(topic).Length > 0, wait, "the reply to " + command);
                return TestSubscriber.Json(requester.On(topic)[0]);
            }

            JsonElement set = await AskAsync("config/set", """{"values": {"Mqtt:HealthIntervalSeconds": 2, "Trigger:IntervalMs": 250}}""");
            Assert.True(set.GetProperty("status").GetString() == "ok", set.GetRawText() + Text(errors));
            JsonElement keys = set.GetProperty("result").GetProperty("keys");
            Assert.Equal("live", keys.GetProperty("Mqtt:HealthIntervalSeconds").GetString());
            Assert.Equal("restart-required", keys.GetProperty("Trigger:IntervalMs").GetString());
            Assert.Equal(Path.GetFullPath(file), set.GetProperty("result").GetProperty("file").GetString());

            JsonElement restart = await AskAsync("restart", "{}");
            Assert.Equal("ok", restart.GetProperty("status").GetString());
            using var timeout = new CancellationTokenSource(wait);
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 4, $"exit code {process.ExitCode}: {Text(errors)}");

            // A clean stop: the retained status says offline (the goodbye, not the Last Will of a crash).
            await requester.WaitForAsync(s => State(s.On("edge/line9/status")[^1]) == "offline", wait, "the offline status");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            output.WriteLine(Text(errors));
        }

        string written = await File.ReadAllTextAsync(file);
        Assert.Equal(250, JsonNode.Parse(written)!["Trigger"]!["IntervalMs"]!.GetValue<int>());
        Assert.Equal(2, JsonNode.Parse(written)!["Mqtt"]!["HealthIntervalSeconds"]!.GetValue<int>());

        // What the service wrote passes the offline check as it stands.
        using Process check = RuntimeProcess.Start($"check-config \"{file}\"");
        await check.WaitForExitAsync();
        Assert.True(check.ExitCode == 0, await check.StandardError.ReadToEndAsync());
    }

    private static string Text(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private static string? State(MqttApplicationMessage message) => TestSubscriber.Json(message).GetProperty("state").GetString();
}
