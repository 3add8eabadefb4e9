using EdgeRuntime.Archive;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Diagnostics.Console;
using EdgeRuntime.Hardware;
using EdgeRuntime.Hardware.Outputs;
using EdgeRuntime.Hardware.Sources;
using EdgeRuntime.Hardware.Triggers;
using EdgeRuntime.Host.Configuration;
using EdgeRuntime.Inference;
using EdgeRuntime.Inference.Golden;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Providers;
using EdgeRuntime.Inference.Shadow;
using EdgeRuntime.Messaging;
using EdgeRuntime.Messaging.Broker;
using EdgeRuntime.Messaging.Commands;
using EdgeRuntime.Messaging.Connection;
using EdgeRuntime.Messaging.Health;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using EdgeRuntime.Vision.Imaging;
using EdgeRuntime.Vision.Postprocessing;
using EdgeRuntime.Vision.Preprocessing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Host.Composition;

/// <summary>
/// The composition root: which implementation serves each contract, chosen from the configuration.
/// Nothing else in the service news up an adapter.
/// </summary>
internal static class EdgeHost
{
    /// <summary>Builds (does not start) the service host.</summary>
    /// <param name="configuration">The merged configuration.</param>
    /// <param name="console">Where result and summary lines go.</param>
    /// <param name="registry">Every options section bound, for the all-at-once configuration check.</param>
    /// <param name="configureServices">Last word on the services (tests add a sink here).</param>
    public static IHost Build(EdgeConfiguration configuration, TextWriter console, out OptionsRegistry registry, Action<IServiceCollection>? configureServices = null)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddConfiguration(configuration.Root);
        builder.Logging.AddConfiguration(configuration.Root.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddSystemd();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        registry = AddOptions(builder.Services, configuration.Root);
        AddServices(builder.Services, console, configuration.Root);
        builder.Services.AddSingleton(configuration);
        configureServices?.Invoke(builder.Services);
        return builder.Build();
    }

    private static OptionsRegistry AddOptions(IServiceCollection services, IConfiguration configuration)
    {
        var registry = new OptionsRegistry();
        registry
            .Add<PipelineOptions, PipelineOptionsValidator>(services, configuration, PipelineOptions.SectionName)
            .Add<TriggerOptions, TriggerOptionsValidator>(services, configuration, TriggerOptions.SectionName)
            .Add<SourceOptions, SourceOptionsValidator>(services, configuration, SourceOptions.SectionName)
            .Add<ModelOptions, ModelOptionsValidator>(services, configuration, ModelOptions.SectionName)
            .Add<InferenceOptions, InferenceOptionsValidator>(services, configuration, InferenceOptions.SectionName)
            .Add<InspectionOptions, InspectionOptionsValidator>(services, configuration, InspectionOptions.SectionName)
            .Add<RejectOptions, RejectOptionsValidator>(services, configuration, RejectOptions.SectionName)
            .Add<ArchiveOptions, ArchiveOptionsValidator>(services, configuration, ArchiveOptions.SectionName)
            .Add<ConsoleReportOptions, ConsoleReportOptionsValidator>(services, configuration, ConsoleReportOptions.SectionName)
            .Add<MqttOptions, MqttOptionsValidator>(services, configuration, MqttOptions.SectionName);
        services.AddSingleton(registry);
        return registry;
    }

    private static void AddServices(IServiceCollection services, TextWriter console, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new FramePool());
        services.AddSingleton<PipelineLedger>();
        services.AddSingleton(sp => new LatencyStatistics(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp =>
        {
            PipelineOptions pipeline = sp.GetRequiredService<IOptions<PipelineOptions>>().Value;
            return new PersistentSequence(pipeline.StateDirectory, pipeline.SequenceReserveBlock);
        });

        // Hardware is chosen by configuration; each GPIO user opens (and disposes) its own chip driver.
        services.AddSingleton(sp => new SoftwareTrigger(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => HardwareFactory.CreateTrigger(
            sp.GetRequiredService<IOptions<TriggerOptions>>().Value, sp.GetRequiredService<SoftwareTrigger>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => HardwareFactory.CreateSource(
            sp.GetRequiredService<IOptions<SourceOptions>>().Value, sp.GetRequiredService<FramePool>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));

        services.AddSingleton<IAcceleratorProbe, NativeAcceleratorProbe>();
        services.AddSingleton<IFramePreprocessor, ManifestPreprocessor>();
        services.AddSingleton<ISegmentationPostprocessor, SegmentationPostprocessor>();

        // Golden samples are judged by the production preprocessing and postprocessing, at every load and periodically.
        services.AddSingleton<IImageDecoder, OpenCvImageDecoder>();
        services.AddSingleton(sp => new FrameInspector(sp.GetRequiredService<IFramePreprocessor>(), sp.GetRequiredService<ISegmentationPostprocessor>()));
        services.AddSingleton<GoldenSampleCheck>();
        services.AddSingleton<OnnxModelProvider>();
        services.AddSingleton<IModelProvider>(sp => sp.GetRequiredService<OnnxModelProvider>());
        AddShadowModel(services, configuration);

        // Sinks, in publishing order: the reject output first (it is the one with a physical deadline).
        services.AddSingleton(sp => HardwareFactory.CreateRejectOutput(
            sp.GetRequiredService<IOptions<RejectOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RejectOutputSink>();
        services.AddSingleton<IResultSink>(sp => sp.GetRequiredService<RejectOutputSink>());
        services.AddSingleton<ImageArchiveSink>();
        services.AddSingleton<IResultSink>(sp => sp.GetRequiredService<ImageArchiveSink>());
        services.AddSingleton<IResultSink>(sp => new ConsoleResultSink(sp.GetRequiredService<IOptions<ConsoleReportOptions>>(), console));

        services.AddSingleton<InspectionPipeline>();

        AddMqtt(services, configuration);

        // Hosted services stop in reverse order: the pipeline drains first, then the final summary prints.
        services.AddHostedService(sp => new ConsoleSummaryService(
            sp.GetRequiredService<IOptions<ConsoleReportOptions>>(), sp.GetRequiredService<PipelineLedger>(),
            sp.GetRequiredService<LatencyStatistics>(), sp.GetRequiredService<TimeProvider>(), console));
        services.AddHostedService<PipelineService>();
        services.AddHostedService<GoldenCheckService>();
    }

    // A shadow model sees the frames after their verdict is out (the pipeline's observer) and runs on its own loop.
    private static void AddShadowModel(IServiceCollection services, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration.GetSection(ModelOptions.SectionName).GetSection(nameof(ModelOptions.Shadow)).GetValue<string?>(nameof(ShadowOptions.Package))))
        {
            return;
        }

        services.AddSingleton(sp =>
        {
            ModelOptions model = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
            var shadowModel = new ModelOptions
            {
                Package = model.Shadow.Package!,
                TrustedKeysDirectory = model.TrustedKeysDirectory,
                RequireSignature = model.RequireSignature,
            };
            var shadow = new OnnxModelProvider(Options.Create(shadowModel), sp.GetRequiredService<IOptions<InferenceOptions>>(),
                sp.GetRequiredService<IOptions<PipelineOptions>>(), sp.GetRequiredService<IAcceleratorProbe>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<OnnxModelProvider>>(), sp.GetRequiredService<GoldenSampleCheck>());
            return new ShadowModelRunner(model.Shadow, shadow, sp.GetRequiredService<IFramePreprocessor>(), sp.GetRequiredService<ISegmentationPostprocessor>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ShadowModelRunner>>());
        });
        services.AddSingleton<IInspectionObserver>(sp => sp.GetRequiredService<ShadowModelRunner>());
        services.AddHostedService(sp => sp.GetRequiredService<ShadowModelRunner>());
    }

    // ---- MQTT (EdgeRuntime.Messaging) -------------------------------------------------------------------------
    // Results and events go through the durable outbox; the connection service publishes them, answers commands and
    // publishes health. Its hosted services are added before the pipeline's so they stop after it has drained.
    private static void AddMqtt(IServiceCollection services, IConfiguration configuration)
    {
        if (!(configuration.GetSection(MqttOptions.SectionName).GetValue<bool?>(nameof(MqttOptions.Enabled)) ?? true))
        {
            return;
        }

        services.AddSingleton(sp => MqttTopics.From(sp.GetRequiredService<IOptions<MqttOptions>>().Value));
        services.AddSingleton(sp =>
        {
            MqttOptions mqtt = sp.GetRequiredService<IOptions<MqttOptions>>().Value;
            string state = sp.GetRequiredService<IOptions<PipelineOptions>>().Value.StateDirectory;
            return DurableOutbox.Open(Path.Combine(state, mqtt.Outbox.Directory), mqtt.Outbox, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DurableOutbox>());
        });
        services.AddSingleton(sp => new MqttEventPublisher(sp.GetRequiredService<DurableOutbox>(), sp.GetRequiredService<MqttTopics>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<MqttResultSink>();
        services.AddSingleton<IResultSink>(sp => sp.GetRequiredService<MqttResultSink>());
        services.AddSingleton<MqttConnectionState>();
        services.AddSingleton<IModelStatusSource>(sp =>
        {
            OnnxModelProvider models = sp.GetRequiredService<OnnxModelProvider>();
            ShadowModelRunner? shadow = sp.GetService<ShadowModelRunner>();
            return new DelegateModelStatusSource(() =>
            {
                ModelProviderState state = models.State;
                GoldenCheckStatus? golden = state.Golden is { } g ? new GoldenCheckStatus(g.CheckedUtc, g.Samples, g.Passed, g.Passed ? null : g.ToString()) : null;
                return new ModelStatusReport(PhaseName(state.Phase), state.Message, state.Active, state.Providers?.ToString(), state.LastFailure, golden,
                    shadow is null ? null : ShadowReport(shadow.Status));
            });
        });
        services.AddSingleton<IPipelineProbe>(sp => new InspectionPipelineProbe(sp.GetRequiredService<InspectionPipeline>()));
        services.AddSingleton(sp => new HealthReporter(sp.GetRequiredService<PipelineLedger>(), sp.GetRequiredService<LatencyStatistics>(),
            sp.GetRequiredService<IPipelineProbe>(), sp.GetRequiredService<IModelStatusSource>(), sp.GetRequiredService<DurableOutbox>(),
            sp.GetRequiredService<MqttConnectionState>(), sp.GetRequiredService<TimeProvider>()));

        // config/set writes the configuration file after the start-up check passes on the result; restart stops the
        // service with the exit code systemd restarts. Keys applied live: those an ILiveConfigurable takes.
        services.AddSingleton(sp => new MqttLiveSettings(sp.GetRequiredService<IOptions<MqttOptions>>().Value));
        services.AddSingleton<ILiveConfigurable>(sp => sp.GetRequiredService<MqttLiveSettings>());
        services.AddSingleton<IConfigurationStore>(sp => new FileConfigurationStore(sp.GetRequiredService<EdgeConfiguration>(),
            sp.GetRequiredService<OptionsRegistry>(), sp, sp.GetServices<ILiveConfigurable>(), sp.GetRequiredService<ILogger<FileConfigurationStore>>()));
        services.AddSingleton<IServiceRestarter, HostRestarter>();
        services.AddSingleton(sp => new CommandProcessor(sp.GetRequiredService<IOptions<MqttOptions>>().Value.MaxCommandBytes,
            sp.GetRequiredService<SoftwareTrigger>(), sp.GetRequiredService<IModelStatusSource>(), sp.GetRequiredService<IConfiguration>(),
            sp.GetRequiredService<DurableOutbox>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IConfigurationStore>(), sp.GetRequiredService<IServiceRestarter>()));
        if (configuration.GetSection(MqttOptions.SectionName).Get<MqttOptions>() is not { UsesEmbeddedBroker: false })
        {
            services.AddHostedService<EmbeddedBroker>();
        }

        services.AddHostedService<MqttConnectionService>();
    }

    /// <summary>A model phase as health and <c>cmd/model/status</c> name it (TOPICS.md).</summary>
    private static string PhaseName(ModelPhase phase) => phase switch
    {
        ModelPhase.NotLoaded => "not-loaded",
        ModelPhase.Loading => "loading",
        ModelPhase.Warming => "warming",
        ModelPhase.Ready => "ready",
        ModelPhase.Degraded => "degraded",
        _ => "failed",
    };

    private static ShadowAgreementStatus ShadowReport(ShadowStatus status)
    {
        var disagreements = new ShadowDisagreementReport[status.Disagreements.Count];
        for (int i = 0; i < disagreements.Length; i++)
        {
            ShadowDisagreement d = status.Disagreements[i];
            disagreements[i] = new ShadowDisagreementReport(d.FrameId, d.Sequence, d.ActiveVerdict, d.ShadowVerdict, d.ActiveDefects, d.ShadowDefects, d.MaskIoU);
        }

        return new ShadowAgreementStatus(status.Package, PhaseName(status.Phase), status.Message, status.Shadow, status.Fraction, status.Sampled,
            status.Compared, status.Skipped, status.Errors, status.AgreementRate, status.MeanMaskIoU, status.Since, disagreements);
    }
}
