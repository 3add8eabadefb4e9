using System.Diagnostics;
using System.Globalization;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.Inference.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// The phases of one benchmark run, in order: the pipeline's own allocations (sample model, then the small
/// configuration's 10,000 frames) while nothing else runs; then, with the MQTT path started, throughput (bare,
/// pipeline, naive), preprocessing against a memory copy, paced latency, tiled frames, the small configuration
/// again, and the store-and-forward outbox (results/s appended, and delivered through MQTT). Comparisons alternate
/// their sides round by round (ABAB) and report medians of per-round ratios, so the load other work puts on a shared
/// machine hits both sides alike.
/// </summary>
internal static class BenchRun
{
    // Frame sides of the generated replay folders: the tiled frame, and small crops for the fast configuration.
    private const int TiledSide = 2048;
    private const int QuickTiledSide = 1024;
    private const int SmallSide = 112;

    public static async Task<BenchReport> RunAsync(BenchOptions options, TextWriter progress, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        string loadBefore = MachineLoad.Read();

        // Errors only: a CPU machine skips TensorRT and CUDA with a warning the report states in one line. Failed frames
        // are errors, and every burst also refuses books that show any.
        using var loggers = new StderrLoggerFactory(LogLevel.Error);
        using var assets = new BenchAssets();
        ModelChoice choice = await assets.ChooseModelAsync(options.ModelDirectory, cancellationToken).ConfigureAwait(false);
        progress.WriteLine($"bench: loading {choice.Directory}");
        using ModelUnderTest model = await ModelUnderTest.LoadAsync(choice, options.IntraOpThreads, assets.NewFolder("state"), loggers, cancellationToken)
            .ConfigureAwait(false);
        var report = new BenchReport
        {
            Options = options,
            Model = choice,
            ModelIdentity = $"{model.Session.Identity.Id} {model.Session.Identity.Version} ({model.Session.Identity.Precision})",
            Provider = ProviderText(model),
            OnnxRuntimeVersion = OrtEnv.Instance().GetVersionString(),
            FrameTileWidth = model.Manifest.Input.Width,
            FrameTileHeight = model.Manifest.Input.Height,
            LoadBefore = loadBefore,
        };

        var sink = new MeasuringSink(1 << 16);
        using var rig = new PipelineRig(model, assets.Samples, assets.NewFolder("state-samples"), loggers, sink);
        (int width, int height) = await rig.PrimeAsync(cancellationToken).ConfigureAwait(false);
        TileLayout layout = rig.Preprocessor.GetLayout(width, height, model.Manifest);
        report.FrameWidth = width;
        report.FrameHeight = height;
        report.FrameTiles = layout.Count;

        // The pipeline's own allocations first, while nothing else runs in the process (no MQTT host yet).
        await PipelineAllocationAsync(options, rig, report, progress, cancellationToken).ConfigureAwait(false);
        report.SmallAlone = await SmallConfigurationAsync(options, assets, loggers, [], progress, cancellationToken).ConfigureAwait(false);

        // Then the service's path: results go through MQTT (outbox, connection, embedded broker) unless --no-mqtt.
        await using MqttPublishing? mqtt = options.NoMqtt
            ? null
            : await MqttPublishing.StartAsync(assets.NewFolder("state-mqtt"), choice.Directory, assets.Samples, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<IResultSink> broker = mqtt is null ? [] : [mqtt.Sink];
        report.PublishedTo = mqtt?.Description ?? "a null sink (--no-mqtt)";
        await ThroughputAsync(options, model, rig, layout, broker, mqtt is null ? new NullSink() : mqtt.Sink, report, progress, cancellationToken).ConfigureAwait(false);
        await PreprocessAsync(options, model, rig, layout, report, progress, cancellationToken).ConfigureAwait(false);
        await PacedLatencyAsync(options, rig, broker, report, progress, cancellationToken).ConfigureAwait(false);
        await TiledAsync(options, model, assets, loggers, sink, broker, report, progress, cancellationToken).ConfigureAwait(false);
        if (mqtt is not null)
        {
            report.SmallWithMqtt = await SmallConfigurationAsync(options, assets, loggers, broker, progress, cancellationToken).ConfigureAwait(false);
        }

        // Last, so its disk writes and its flood of messages disturb no other phase.
        await OutboxThroughput.MeasureAsync(options, rig, assets, loggers, mqtt, report, progress, cancellationToken).ConfigureAwait(false);
        report.MqttMessagesPublished = mqtt?.State.Published ?? 0;

        report.LoadAfter = MachineLoad.Read();
        report.TotalSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return report;
    }

    private static async Task PipelineAllocationAsync(BenchOptions options, PipelineRig rig, BenchReport report, TextWriter progress,
        CancellationToken cancellationToken)
    {
        await using PipelineRun run = rig.Start(maxRateHz: 0, otherSinks: []);

        // Every in-flight slot carries a frame in the warm-up, so each job has made its tensors before the window, and
        // every replay image has been judged once, so the postprocessor's pools have grown to the largest defect map.
        await run.BurstAsync(rig.WarmupFrames, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        report.PipelineAllocation = await run.BurstAsync(options.AllocationFrames, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: pipeline alone: {report.PipelineAllocation.AllocatedBytesPerFrame:F0} B/frame over {report.PipelineAllocation.Frames} frames, {report.PipelineAllocation.FramesPerSecond:F2} frames/s"));
    }

    private static async Task ThroughputAsync(BenchOptions options, ModelUnderTest model, PipelineRig rig, TileLayout layout, IReadOnlyList<IResultSink> broker,
        IResultSink naiveSink, BenchReport report, TextWriter progress, CancellationToken cancellationToken)
    {
        // The bare session runs the frame's tiles as the runtime does: ceil(tiles / MaxBatch) runs of the same batch sizes.
        int batch = Math.Min(layout.Count, model.Session.Batch.MaxChunk);
        int runsPerFrame = (layout.Count + batch - 1) / batch;
        using var bare = new BareRunner(model, batch);
        await FillAsync(bare.Input, rig, model, cancellationToken).ConfigureAwait(false);
        double seconds = options.SecondsPerSide;
        await using PipelineRun run = rig.Start(maxRateHz: 0, broker);

        // Warm-up of all three, untimed: JIT, ONNX Runtime's arena for this batch, the pool's arrays. The pipeline's burst
        // fills every in-flight slot, so each job makes its tensors now and the measured bursts only reuse them.
        SequentialLoops.Bare(bare, runsPerFrame, 0, 3);
        await SequentialLoops.NaiveAsync(model, rig.Source, rig.Preprocessor, rig.Postprocessor, naiveSink, 0, 3, cancellationToken).ConfigureAwait(false);
        Throughput warm = await run.BurstAsync(rig.WarmupFrames, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);

        // A burst as long as the other sides' time; at least a few frames, so its ramp and drain weigh little.
        int burst = Math.Max(options.Quick ? 2 : 4, (int)Math.Round(seconds * warm.FramesPerSecond));
        TimeSpan limit = TimeSpan.FromSeconds(120 + (burst / Math.Max(warm.FramesPerSecond, 0.01) * 4));
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: {layout.Count} tiles per frame, bare runs {runsPerFrame} x batch {batch}; pipeline bursts of {burst} frames (warm-up {warm.FramesPerSecond:F2} frames/s)"));
        for (int round = 1; round <= options.Rounds; round++)
        {
            Throughput? bareRun = null;
            Throughput? pipelineRun = null;
            Throughput? naiveRun = null;
            bool forward = round % 2 == 1;
            for (int step = 0; step < 3; step++)
            {
                switch (forward ? step : 2 - step)
                {
                    case 0:
                        bareRun = SequentialLoops.Bare(bare, runsPerFrame, seconds, 2);
                        break;
                    case 1:
                        pipelineRun = await run.BurstAsync(burst, limit, cancellationToken).ConfigureAwait(false);
                        break;
                    default:
                        naiveRun = await SequentialLoops.NaiveAsync(model, rig.Source, rig.Preprocessor, rig.Postprocessor, naiveSink, seconds, 2, cancellationToken)
                            .ConfigureAwait(false);
                        break;
                }
            }

            var result = new ThroughputRound(round, forward ? "bare, pipeline, naive" : "naive, pipeline, bare", bareRun!, pipelineRun!, naiveRun!);
            report.ThroughputRounds.Add(result);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench: throughput round {round}/{options.Rounds}: bare {result.Bare.FramesPerSecond:F2}, pipeline {result.Pipeline.FramesPerSecond:F2}, naive {result.Naive.FramesPerSecond:F2} frames/s, pipeline/bare {result.PipelineToBare:F3}, {result.Pipeline.AllocatedBytesPerFrame:F0} B/frame"));
        }

        List<ThroughputRound> marked = Rounds.MarkDisturbed(report.ThroughputRounds);
        report.ThroughputRounds.Clear();
        report.ThroughputRounds.AddRange(marked);
        report.NaiveStages = LatencyFigures.From(LatencySample.Concat(report.CountedRounds.Select(r => r.Naive.Latencies).ToList()));
    }

    private static async Task PreprocessAsync(BenchOptions options, ModelUnderTest model, PipelineRig rig, TileLayout layout, BenchReport report,
        TextWriter progress, CancellationToken cancellationToken)
    {
        using Frame frame = await rig.Source.CaptureAsync(PipelineRig.Trigger(), cancellationToken).ConfigureAwait(false);
        int floats = layout.Count * model.InputElements;
        float[] destination = GC.AllocateArray<float>(floats, pinned: true);
        float[] source = GC.AllocateArray<float>(floats, pinned: true);
        source.AsSpan().Fill(0.5f);
        report.PreprocessOutputBytes = (long)floats * sizeof(float);

        // Calibrate the repetitions per side so that each side of a round takes about the configured time.
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < 3; i++)
        {
            rig.Preprocessor.Preprocess(frame, layout, model.Manifest, destination);
            source.AsSpan().CopyTo(destination);
        }

        double perPair = Stopwatch.GetElapsedTime(t0).TotalSeconds / 3;
        int repetitions = Math.Max(1, (int)(options.PreprocessSecondsPerSide / Math.Max(perPair / 2, 1e-6)));
        for (int round = 0; round < options.PreprocessRounds; round++)
        {
            double preprocess = 0;
            double copy = 0;
            for (int side = 0; side < 2; side++)
            {
                // ABAB: the side that goes first alternates.
                bool preprocessSide = (side == 0) == (round % 2 == 0);
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < repetitions; i++)
                {
                    if (preprocessSide)
                    {
                        rig.Preprocessor.Preprocess(frame, layout, model.Manifest, destination);
                    }
                    else
                    {
                        source.AsSpan().CopyTo(destination);
                    }
                }

                double milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds / repetitions;
                if (preprocessSide)
                {
                    preprocess = milliseconds;
                }
                else
                {
                    copy = milliseconds;
                }
            }

            report.PreprocessRounds.Add(new PreprocessRound(preprocess, copy));
        }

        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: preprocessing {report.PreprocessMilliseconds:F3} ms, memory copy {report.CopyMilliseconds:F3} ms per frame ({report.PreprocessToCopyRatio:F2}x)"));
    }

    private static async Task PacedLatencyAsync(BenchOptions options, PipelineRig rig, IReadOnlyList<IResultSink> broker, BenchReport report, TextWriter progress,
        CancellationToken cancellationToken)
    {
        // Below capacity, as a line runs: queues stay short, so latency is the stages' own time plus jitter.
        report.PacedRateHz = report.PipelineFramesPerSecond * 0.7;
        await using PipelineRun run = rig.Start(report.PacedRateHz, broker);
        await run.BurstAsync(options.PacedWarmupFrames, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        int frames = Math.Max(options.PacedMinimumFrames, (int)Math.Round(report.PacedRateHz * options.LatencySeconds));
        Throughput window = await run.BurstAsync(frames, TimeSpan.FromSeconds(120 + (frames / report.PacedRateHz * 4)), cancellationToken).ConfigureAwait(false);
        report.Paced = LatencyFigures.From(window.Latencies);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: paced latency at {report.PacedRateHz:F2} frames/s: p50 {report.Paced.P50Milliseconds:F1} ms, p99 {report.Paced.P99Milliseconds:F1} ms over {report.Paced.Count} results"));
    }

    private static async Task TiledAsync(BenchOptions options, ModelUnderTest model, BenchAssets assets, ILoggerFactory loggers, MeasuringSink sink,
        IReadOnlyList<IResultSink> broker, BenchReport report, TextWriter progress, CancellationToken cancellationToken)
    {
        int side = options.Quick ? QuickTiledSide : TiledSide;
        progress.WriteLine($"bench: tiled {side}x{side}: writing mosaics of the samples");
        string folder = assets.ReplayFolder("replay-tiled", side, 2);
        using var rig = new PipelineRig(model, folder, assets.NewFolder("state-tiled"), loggers, sink);
        (int width, int height) = await rig.PrimeAsync(cancellationToken).ConfigureAwait(false);
        TileLayout layout = rig.Preprocessor.GetLayout(width, height, model.Manifest);
        report.TiledSide = side;
        report.TiledTiles = layout.Count;

        // The yardstick: as many bare single-tile runs as the frame has tiles.
        using var tile = new BareRunner(model, 1);
        await FillAsync(tile.Input, rig, model, cancellationToken).ConfigureAwait(false);
        await using PipelineRun run = rig.Start(maxRateHz: 0, broker);
        SequentialLoops.Bare(tile, 2, 0, 1);

        // As many frames as a measured burst, so the jobs it uses have made their tensors (about 127 MB each at 81 tiles).
        int frames = options.TiledFramesPerSide;
        Throughput warm = await run.BurstAsync(frames, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        TimeSpan limit = TimeSpan.FromSeconds(120 + (warm.Seconds * 4));
        for (int round = 1; round <= options.TiledRounds; round++)
        {
            Throughput pipeline;
            Throughput bare;
            if (round % 2 == 1)
            {
                pipeline = await run.BurstAsync(frames, limit, cancellationToken).ConfigureAwait(false);
                bare = SequentialLoops.Bare(tile, layout.Count, 0, frames);
            }
            else
            {
                bare = SequentialLoops.Bare(tile, layout.Count, 0, frames);
                pipeline = await run.BurstAsync(frames, limit, cancellationToken).ConfigureAwait(false);
            }

            var result = new TiledRound(pipeline, bare);
            report.TiledRounds.Add(result);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench: tiled round {round}/{options.TiledRounds}: pipeline {pipeline.FramesPerSecond:F3}, {layout.Count} bare tile runs {bare.FramesPerSecond:F3} frames/s ({result.Ratio:F3})"));
        }
    }

    private static async Task<SmallRun> SmallConfigurationAsync(BenchOptions options, BenchAssets assets, ILoggerFactory loggers,
        IReadOnlyList<IResultSink> broker, TextWriter progress, CancellationToken cancellationToken)
    {
        // Many frames in little time: the tiny test model on small crops, so 10,000 frames take seconds, not an hour.
        string package = await assets.TinyPackageAsync(cancellationToken).ConfigureAwait(false);
        var choice = new ModelChoice(package, "tiny test model", IsFallback: false);
        using ModelUnderTest tiny = await ModelUnderTest.LoadAsync(choice, options.IntraOpThreads, assets.NewFolder("state-tiny-model"), loggers, cancellationToken)
            .ConfigureAwait(false);
        string folder = assets.ReplayFolder("replay-small", SmallSide, 12);
        var sink = new MeasuringSink(options.SmallFrames);
        using var rig = new PipelineRig(tiny, folder, assets.NewFolder("state-small"), loggers, sink);
        (int width, int height) = await rig.PrimeAsync(cancellationToken).ConfigureAwait(false);
        TileLayout layout = rig.Preprocessor.GetLayout(width, height, tiny.Manifest);
        string with = broker.Count == 0 ? "pipeline alone" : "with MQTT";
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: small configuration ({with}): {options.SmallFrames} frames of {width}x{height} ({layout.Count} tiles of {tiny.Manifest.Input.Width}x{tiny.Manifest.Input.Height}, tiny test model)"));

        // Frames here never queue long, so the service's own deadline stays on and its monitor's timers are measured too.
        await using PipelineRun run = rig.Start(maxRateHz: 0, broker, serviceDeadline: true);
        await run.BurstAsync(options.SmallWarmupFrames, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);

        // Garbage from setting up (decoding, the warm-up's first tensors) is collected now, not counted against the frames.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Throughput window = await run.BurstAsync(options.SmallFrames, TimeSpan.FromMinutes(20), cancellationToken).ConfigureAwait(false);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: small configuration ({with}): {window.FramesPerSecond:F0} frames/s, {window.AllocatedBytesPerFrame:F1} B/frame, gen0/1/2 {window.Collections.Gen0}/{window.Collections.Gen1}/{window.Collections.Gen2}"));
        return new SmallRun("tiny-unet.onnx (tests/EdgeRuntime.Inference.Tests/TestData, 3x64x64)", SmallSide, layout.Count, window);
    }

    /// <summary>Fills a bare input with real preprocessed tiles (a sample frame's, repeated as needed), so the model sees what the pipeline feeds it.</summary>
    private static async Task FillAsync(Memory<float> input, PipelineRig rig, ModelUnderTest model, CancellationToken cancellationToken)
    {
        using Frame frame = await rig.Source.CaptureAsync(PipelineRig.Trigger(), cancellationToken).ConfigureAwait(false);
        TileLayout layout = rig.Preprocessor.GetLayout(frame.Width, frame.Height, model.Manifest);
        float[] tiles = new float[layout.Count * model.InputElements];
        rig.Preprocessor.Preprocess(frame, layout, model.Manifest, tiles);
        Span<float> target = input.Span;
        for (int offset = 0; offset < target.Length; offset += tiles.Length)
        {
            int length = Math.Min(tiles.Length, target.Length - offset);
            tiles.AsSpan(0, length).CopyTo(target[offset..]);
        }
    }

    private static string ProviderText(ModelUnderTest model)
    {
        ProviderSelection providers = model.Session.Providers;
        string text = providers.Active.DisplayName();
        if (providers.Skipped.Count > 0)
        {
            text += " (skipped: " + string.Join(", ", providers.Skipped.Select(s => s.Provider.DisplayName())) + ")";
        }

        return text;
    }
}
