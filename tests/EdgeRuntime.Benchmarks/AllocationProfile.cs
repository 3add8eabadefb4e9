using System.Globalization;
using EdgeRuntime.Core.Sinks;
using Microsoft.Extensions.Logging;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// <c>--allocations</c>: runs the pipeline in steady state with <see cref="AllocationSampler"/> listening and prints
/// which types it allocates, so a regression in the allocation figure can be traced to its source.
/// </summary>
internal static class AllocationProfile
{
    public static async Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        using var loggers = new StderrLoggerFactory(LogLevel.Error);
        using var assets = new BenchAssets();
        using var sampler = new AllocationSampler();
        await using MqttPublishing? mqtt = options.NoMqtt
            ? null
            : await MqttPublishing.StartAsync(assets.NewFolder("state-mqtt"), await assets.TinyPackageAsync(cancellationToken).ConfigureAwait(false), assets.Samples,
                cancellationToken).ConfigureAwait(false);
        IReadOnlyList<IResultSink> broker = mqtt is null ? [] : [mqtt.Sink];
        output.WriteLine("publishing to " + (mqtt?.Description ?? "a null sink (--no-mqtt)"));

        string tinyPackage = await assets.TinyPackageAsync(cancellationToken).ConfigureAwait(false);
        using (ModelUnderTest tiny = await ModelUnderTest.LoadAsync(new ModelChoice(tinyPackage, "tiny test model", false), options.IntraOpThreads,
            assets.NewFolder("state-tiny-model"), loggers, cancellationToken).ConfigureAwait(false))
        {
            string folder = assets.ReplayFolder("replay-small", 112, 12);
            await ProfileAsync("small configuration (tiny model, 112x112 frames)", tiny, folder, options.SmallFrames, serviceDeadline: true, assets, loggers, broker,
                sampler, output, cancellationToken).ConfigureAwait(false);
        }

        ModelChoice choice = await assets.ChooseModelAsync(options.ModelDirectory, cancellationToken).ConfigureAwait(false);
        using ModelUnderTest model = await ModelUnderTest.LoadAsync(choice, options.IntraOpThreads, assets.NewFolder("state"), loggers, cancellationToken)
            .ConfigureAwait(false);
        int frames = options.Quick ? 10 : 40;
        await ProfileAsync($"{model.Session.Identity.Id} on the samples", model, assets.Samples, frames, serviceDeadline: false, assets, loggers, broker,
            sampler, output, cancellationToken).ConfigureAwait(false);
    }

    private static async Task ProfileAsync(string title, ModelUnderTest model, string replayFolder, int frames, bool serviceDeadline, BenchAssets assets,
        ILoggerFactory loggers, IReadOnlyList<IResultSink> broker, AllocationSampler sampler, TextWriter output, CancellationToken cancellationToken)
    {
        var sink = new MeasuringSink(frames);
        using var rig = new PipelineRig(model, replayFolder, assets.NewFolder("state-" + Guid.NewGuid().ToString("N")), loggers, sink);
        await rig.PrimeAsync(cancellationToken).ConfigureAwait(false);
        await using PipelineRun run = rig.Start(maxRateHz: 0, broker, serviceDeadline);
        await run.BurstAsync(rig.WarmupFrames, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        sampler.Start();
        Throughput window = await run.BurstAsync(frames, TimeSpan.FromMinutes(20), cancellationToken).ConfigureAwait(false);
        IReadOnlyList<(string Type, int Samples, long Bytes)> types = sampler.Stop();
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{title}: {window.Frames} frames, {window.AllocatedBytesPerFrame:F0} B/frame (the listener's own allocations included)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  thread pool: {ThreadPool.ThreadCount} threads; gen0/1/2 collections in the window {window.Collections.Gen0}/{window.Collections.Gen1}/{window.Collections.Gen2}"));
        output.WriteLine("  samples  ~bytes/frame  type");
        foreach ((string type, int samples, long bytes) in types.Take(25))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {samples,7}  {(double)bytes / window.Frames,12:F1}  {type}"));
        }
    }
}
