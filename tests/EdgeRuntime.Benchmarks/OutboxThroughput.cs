using System.Diagnostics;
using System.Globalization;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Messaging;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using Microsoft.Extensions.Logging;

namespace EdgeRuntime.Benchmarks;

/// <summary>One measured stretch of the outbox section: results through the sink, and what they cost on disk.</summary>
/// <param name="Window">Results (as frames), wall and CPU time, managed allocation.</param>
/// <param name="BytesPerRecord">Bytes the outbox grew by per result (record header, topic and JSON payload); NaN where not measured.</param>
internal sealed record OutboxRun(Throughput Window, double BytesPerRecord)
{
    public double ResultsPerSecond => Window.FramesPerSecond;

    public bool MeetsTarget => ResultsPerSecond >= OutboxThroughput.Target;
}

/// <summary>
/// The store-and-forward figures: how many results per second the service's <see cref="MqttResultSink"/> appends to a
/// <see cref="DurableOutbox"/> (fsync <see cref="FsyncPolicy.Interval"/>, the default, and <see cref="FsyncPolicy.Always"/>),
/// and how many per second go end to end through the service's MQTT path (sink, outbox, connection service, embedded
/// broker) until the outbox holds nothing unacknowledged. The results are real ones: the sample model's pipeline
/// inspects a few frames first and their results are re-sequenced and published again and again.
/// </summary>
internal static class OutboxThroughput
{
    /// <summary>The issue's figure: the outbox sustains at least this many results per second.</summary>
    public const double Target = 2_000;

    /// <summary>Samples real results, then measures the append windows and, with <paramref name="mqtt"/>, the delivered one.</summary>
    /// <exception cref="BenchmarkException">A result was refused, lost, rejected or not acknowledged in time.</exception>
    public static async Task MeasureAsync(BenchOptions options, PipelineRig rig, BenchAssets assets, ILoggerFactory loggers, MqttPublishing? mqtt,
        BenchReport report, TextWriter progress, CancellationToken cancellationToken)
    {
        InspectionResult[] samples = await SampleResultsAsync(options.OutboxSampleFrames, rig, cancellationToken).ConfigureAwait(false);
        var topics = new MqttTopics("edge", "bench");
        report.OutboxSampleResults = samples.Length;
        report.OutboxAppend = Append(FsyncPolicy.Interval, options.OutboxAppendResults, samples, topics, assets, loggers, progress);
        report.OutboxAppendFsyncAlways = Append(FsyncPolicy.Always, options.OutboxAlwaysResults, samples, topics, assets, loggers, progress);
        if (mqtt is not null)
        {
            report.MqttDelivered = await DeliverAsync(options.MqttDeliveredResults, samples, mqtt, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Results of the sample model as the pipeline publishes them (model, classes, defects, latencies), copied for keeping.</summary>
    private static async Task<InspectionResult[]> SampleResultsAsync(int frames, PipelineRig rig, CancellationToken cancellationToken)
    {
        var sampler = new SamplingSink(frames);
        await using (PipelineRun run = rig.Start(maxRateHz: 0, [sampler]))
        {
            await run.BurstAsync(frames, TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        }

        return sampler.Results();
    }

    private static OutboxRun Append(FsyncPolicy policy, int count, InspectionResult[] samples, MqttTopics topics, BenchAssets assets, ILoggerFactory loggers,
        TextWriter progress)
    {
        // The service's outbox options except the fsync policy, in a folder of its own.
        string folder = assets.NewFolder("outbox-" + policy.ToString().ToLowerInvariant());
        using DurableOutbox outbox = DurableOutbox.Open(folder, new OutboxOptions { FsyncPolicy = policy }, TimeProvider.System, loggers.CreateLogger<DurableOutbox>());
        using var sink = new MqttResultSink(outbox, topics);

        // JIT and the first segment file before the window; a tenth of the window, at most 500.
        int warmup = Math.Clamp(count / 10, 1, 500);
        Publish(sink, samples, 1, warmup);
        long bytesBefore = outbox.Status.Bytes;

        GcCounts collections = GcCounts.Now();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp();
        Publish(sink, samples, warmup + 1, count);

        // Durably stored means on the medium: the interval policy's last records wait for the next timer tick, so the window
        // ends with the fsync that tick would do.
        outbox.FlushToDisk();
        long end = Stopwatch.GetTimestamp();
        var window = new Throughput(count, Stopwatch.GetElapsedTime(start, end).TotalSeconds, (Environment.CpuUsage.TotalTime - cpu).TotalSeconds,
            GC.GetTotalAllocatedBytes(precise: true) - allocated, GcCounts.Now() - collections, LatencySample.Empty);

        OutboxStatus status = outbox.Status;
        if (sink.Refused > 0 || status.Lost > 0 || status.DroppedUnsent > 0 || status.Pending != warmup + count)
        {
            throw new BenchmarkException(
                $"the outbox (fsync {policy}) holds {status.Pending} of {warmup + count} results ({sink.Refused} refused, {status.Lost} lost, {status.DroppedUnsent} dropped; {status.Degraded ?? "not degraded"})");
        }

        var run = new OutboxRun(window, (double)(status.Bytes - bytesBefore) / count);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: outbox append, fsync {policy}: {run.ResultsPerSecond:F0} results/s ({count} results in {window.Seconds:F2} s, {run.BytesPerRecord:F0} B/record, {window.AllocatedBytesPerFrame:F0} B allocated/result)"));
        return run;
    }

    private static async Task<OutboxRun> DeliverAsync(int count, InspectionResult[] samples, MqttPublishing mqtt, TextWriter progress, CancellationToken cancellationToken)
    {
        DurableOutbox outbox = mqtt.Outbox;
        TimeSpan limit = TimeSpan.FromSeconds(120 + (count / 100.0));

        // What earlier phases left goes first; then a tenth of the window warms the publish loop and the broker.
        await DrainAsync(outbox, limit, cancellationToken).ConfigureAwait(false);
        int warmup = Math.Clamp(count / 10, 1, 2_000);
        long refusedBefore = mqtt.Sink.Refused;
        Publish(mqtt.Sink, samples, 1, warmup);
        await DrainAsync(outbox, limit, cancellationToken).ConfigureAwait(false);

        long connects = mqtt.State.Connects;
        long rejected = mqtt.State.Rejected;
        long published = mqtt.State.Published;
        long bytesBefore = outbox.Status.Bytes;
        GcCounts collections = GcCounts.Now();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp();

        // The sink only appends (it never waits on the network), so the results queue in the outbox and the connection
        // publishes them one QoS 1 round trip after the other; the window closes when the broker has acknowledged the last.
        Publish(mqtt.Sink, samples, warmup + 1, count);
        long bytes = outbox.Status.Bytes - bytesBefore;
        await DrainAsync(outbox, limit, cancellationToken).ConfigureAwait(false);
        long end = Stopwatch.GetTimestamp();
        var window = new Throughput(count, Stopwatch.GetElapsedTime(start, end).TotalSeconds, (Environment.CpuUsage.TotalTime - cpu).TotalSeconds,
            GC.GetTotalAllocatedBytes(precise: true) - allocated, GcCounts.Now() - collections, LatencySample.Empty);

        long refused = mqtt.Sink.Refused - refusedBefore;
        if (refused > 0 || mqtt.State.Rejected != rejected || mqtt.State.Published - published < count)
        {
            throw new BenchmarkException(
                $"of {count} results, the broker acknowledged {mqtt.State.Published - published} ({mqtt.State.Rejected - rejected} rejected, {refused} refused by the outbox)");
        }

        if (mqtt.State.Connects != connects)
        {
            throw new BenchmarkException("the MQTT connection to the embedded broker was lost and made again during the delivered window; the figure would include the reconnection");
        }

        var run = new OutboxRun(window, (double)bytes / count);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: MQTT delivered (sink to PUBACK): {run.ResultsPerSecond:F0} results/s ({count} results in {window.Seconds:F2} s, {window.CpuMillisecondsPerFrame * 1000:F0} CPU ms per 1,000)"));
        return run;
    }

    /// <summary>Publishes <paramref name="count"/> results numbered from <paramref name="first"/>, each a sample with its own sequence number.</summary>
    private static void Publish(MqttResultSink sink, InspectionResult[] samples, int first, int count)
    {
        for (int i = first; i < first + count; i++)
        {
            InspectionResult result = samples[i % samples.Length];
            result.Sequence = i;

            // The sink appends synchronously: its ValueTask is complete when it returns.
            ValueTask appended = sink.PublishAsync(result, null, CancellationToken.None);
            if (!appended.IsCompletedSuccessfully)
            {
                appended.AsTask().GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>Waits until the broker has acknowledged every record in the outbox.</summary>
    private static async Task DrainAsync(DurableOutbox outbox, TimeSpan limit, CancellationToken cancellationToken)
    {
        long until = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);

        // The outbox has no signal for acknowledgements, so this polls the acknowledged mark (a lock and a long; the status
        // would allocate a record each time) every millisecond, which is nothing against a window of seconds.
        long last = outbox.AcknowledgedSequence + outbox.Status.Pending;
        while (true)
        {
            while (outbox.AcknowledgedSequence < last)
            {
                if (Stopwatch.GetTimestamp() > until)
                {
                    throw new BenchmarkException(
                        $"the MQTT connection did not empty the outbox within {limit.TotalSeconds:F0} s ({outbox.Status.Pending} record(s) still pending)");
                }

                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }

            // Anything appended meanwhile (an event) is part of what the broker must have taken.
            long pending = outbox.Status.Pending;
            if (pending == 0)
            {
                return;
            }

            last = outbox.AcknowledgedSequence + pending;
        }
    }

    /// <summary>Keeps copies of the first results the pipeline publishes (the pipeline reuses its own result objects).</summary>
    private sealed class SamplingSink(int capacity) : IResultSink
    {
        private readonly List<InspectionResult> _results = new(capacity);

        public string Name => "bench-sampler";

        public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
        {
            if (_results.Count < capacity)
            {
                var copy = new InspectionResult();
                result.CopyTo(copy);
                _results.Add(copy);
            }

            return ValueTask.CompletedTask;
        }

        /// <exception cref="BenchmarkException">The pipeline published nothing.</exception>
        public InspectionResult[] Results() =>
            _results.Count > 0 ? [.. _results] : throw new BenchmarkException("the pipeline published no result to sample for the outbox figures");
    }
}
