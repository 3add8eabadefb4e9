using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Messaging.Commands;
using EdgeRuntime.Messaging.Connection;
using EdgeRuntime.Messaging.Health;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>The messaging side of the runtime, wired as the host wires it, against a real broker.</summary>
public sealed class RuntimeUnderTest : IAsyncDisposable
{
    private RuntimeUnderTest(MqttOptions options, string outboxDirectory, SoftwareTrigger trigger, IConfiguration? configuration,
        IConfigurationStore? store, IServiceRestarter? restarter, ILogger<MqttConnectionService>? logger)
    {
        Options = options;
        Topics = MqttTopics.From(options);
        Trigger = trigger;
        Outbox = DurableOutbox.Open(outboxDirectory, options.Outbox, TimeProvider.System, NullLogger.Instance);
        Events = new MqttEventPublisher(Outbox, Topics, TimeProvider.System);
        Sink = new MqttResultSink(Outbox, Topics);
        State = new MqttConnectionState();
        Live = new MqttLiveSettings(options);
        var models = new DelegateModelStatusSource(() => new ModelStatusReport("ready", "test model serving", TestResults.Model, "CPU", null));
        var health = new HealthReporter(new PipelineLedger(), new LatencyStatistics(TimeProvider.System), null, models, Outbox, State, TimeProvider.System);
        Health = health;
        var commands = new CommandProcessor(options.MaxCommandBytes, trigger, models, configuration, Outbox, TimeProvider.System, store, restarter);
        Service = new MqttConnectionService(Microsoft.Extensions.Options.Options.Create(options), Topics, Outbox, commands, health, State,
            TimeProvider.System, logger ?? NullLogger<MqttConnectionService>.Instance, Live);
    }

    public MqttOptions Options { get; }

    public MqttTopics Topics { get; }

    public SoftwareTrigger Trigger { get; }

    public DurableOutbox Outbox { get; }

    public MqttEventPublisher Events { get; }

    public MqttResultSink Sink { get; }

    public MqttConnectionState State { get; }

    public MqttConnectionService Service { get; }

    public MqttLiveSettings Live { get; }

    public HealthReporter Health { get; }

    /// <summary>The health payload as the health loop would publish it now.</summary>
    public System.Text.Json.JsonElement HealthNow() => HealthJson.Of(Health);

    public static MqttOptions OptionsFor(int port, string device = "line1") => new()
    {
        Host = "127.0.0.1",
        Port = port,
        ClientId = "edge-test-" + Guid.NewGuid().ToString("N")[..8],
        DeviceId = device,
        KeepAliveSeconds = 4,
        ConnectTimeoutSeconds = 3,
        PublishTimeoutSeconds = 3,
        HealthIntervalSeconds = 1,
        Reconnect = new ReconnectOptions { InitialDelayMs = 50, MaxDelayMs = 400, Jitter = 0.2 },
    };

    public static async Task<RuntimeUnderTest> StartAsync(MqttOptions options, string outboxDirectory, IConfiguration? configuration = null,
        IConfigurationStore? store = null, IServiceRestarter? restarter = null, ILogger<MqttConnectionService>? logger = null)
    {
        var runtime = new RuntimeUnderTest(options, outboxDirectory, new SoftwareTrigger(TimeProvider.System), configuration, store, restarter, logger);
        await runtime.Service.StartAsync(CancellationToken.None);
        return runtime;
    }

    public async Task PublishResultsAsync(long from, long to)
    {
        var result = new InspectionResult();
        for (long seq = from; seq <= to; seq++)
        {
            TestResults.Fill(result, seq);
            await Sink.PublishAsync(result, null, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Service.StopAsync(stop.Token);
        Service.Dispose();
        Sink.Dispose();
        Outbox.Dispose();
    }
}

public static class TestResults
{
    public static ModelIdentity Model { get; } = new("defect-unet", "1.2.0", "int8", "CPU", "abc123");

    public static ModelIdentity ShadowModel { get; } = new("defect-unet", "1.3.0", "fp16", "CPU", "def456");

    /// <summary>A serving model whose periodic golden check disagreed, with a shadow model that has been compared with it.</summary>
    public static ModelStatusReport DegradedModelWithShadow(DateTimeOffset now) => new(
        "degraded", "defect-unet 1.2.0 serves, but its golden check disagrees: 1 of 12 golden sample(s) disagree", Model, "TensorRT skipped: not in this build; CPU", null,
        new GoldenCheckStatus(now.AddMinutes(-1), 12, false, "1 of 12 golden sample(s) disagree: 00003.png: expected FAIL [blob], got PASS"),
        new ShadowAgreementStatus("/opt/edge/models/defect-unet-1.3.0", "ready", "defect-unet 1.3.0 on CPU", ShadowModel, 0.25, 120, 117, 3, 0,
            115 / 117.0, 0.91234, now.AddMinutes(-30),
            [new ShadowDisagreementReport("frame-41", 41, Verdict.Fail, Verdict.Pass, 1, 0, 0), new ShadowDisagreementReport("frame-97", 97, Verdict.Pass, Verdict.Fail, 0, 2, 0.25)]));

    /// <summary>A serving model that passed its golden check, with a shadow that is loaded but has compared nothing yet.</summary>
    public static ModelStatusReport ReadyModelWithFreshShadow(DateTimeOffset now) => new(
        "ready", "defect-unet 1.2.0 serves", Model, "CPU", null, new GoldenCheckStatus(now, 12, true, null),
        new ShadowAgreementStatus("/opt/edge/models/defect-unet-1.3.0", "warming", "step 3 of 4: warm-up inference", null, 0.25, 0, 0, 0, 0, null, null, null, []));

    public static void Fill(InspectionResult result, long seq)
    {
        result.Reset();
        result.Sequence = seq;
        result.FrameId = "frame-" + seq;
        result.Trigger = new TriggerSignal(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero).AddMilliseconds(seq), seq, "timer");
        result.Verdict = seq % 3 == 0 ? Verdict.Fail : Verdict.Pass;
        result.Status = ResultStatus.Inspected;
        result.ImageWidth = 512;
        result.ImageHeight = 512;
        result.Model = Model;
        result.ClassNames = ["good", "scratch", "blob"];
        if (result.Verdict == Verdict.Fail)
        {
            result.AddDefect(new Defect(1, new PixelRect(10, 20, 30, 40), 900, 25.5f, 40.25f, 0.97f, 0.81f));
        }

        result.Latencies[PipelineStage.Inference] = 12.5;
        result.Latencies.TotalMilliseconds = 20.25;
    }
}
