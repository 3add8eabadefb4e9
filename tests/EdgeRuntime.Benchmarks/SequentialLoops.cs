using System.Diagnostics;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Benchmarks;

/// <summary>The single-threaded loops the pipeline is compared with: bare ONNX Runtime, and the naive inspection.</summary>
internal static class SequentialLoops
{
    /// <summary>
    /// Runs <paramref name="runner"/> <paramref name="runsPerFrame"/> times per frame, for at least
    /// <paramref name="seconds"/> and <paramref name="minFrames"/> frames.
    /// </summary>
    public static Throughput Bare(BareRunner runner, int runsPerFrame, double seconds, int minFrames)
    {
        GcCounts collections = GcCounts.Now();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp();
        long until = start + (long)(seconds * Stopwatch.Frequency);
        int frames = 0;
        long now;
        do
        {
            for (int i = 0; i < runsPerFrame; i++)
            {
                runner.Run();
            }

            frames++;
            now = Stopwatch.GetTimestamp();
        }
        while (now < until || frames < minFrames);

        double cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        return new Throughput(frames, Stopwatch.GetElapsedTime(start, now).TotalSeconds, cpuSeconds, GC.GetTotalAllocatedBytes(precise: true) - allocated,
            GcCounts.Now() - collections, LatencySample.Empty);
    }

    /// <summary>
    /// The inspection written the obvious way, one stage after the other on one thread with fresh buffers per frame: take
    /// the frame, preprocess into a new array, wrap it in a new <see cref="OrtValue"/>, a plain <c>session.Run</c> that
    /// returns new output tensors, postprocess into a new result, publish. The same source, kernels and session as the
    /// others, so the difference is the pipeline's design alone. Latencies are the stages' own times (nothing queues).
    /// </summary>
    public static async Task<Throughput> NaiveAsync(ModelUnderTest model, IFrameSource source, IFramePreprocessor preprocessor,
        ISegmentationPostprocessor postprocessor, IResultSink sink, double seconds, int minFrames, CancellationToken cancellationToken)
    {
        ModelManifest manifest = model.Manifest;
        string[] inputNames = [manifest.Input.Name];
        string[] outputNames = [manifest.Output.Name];
        var totals = new List<double>();
        var stages = new List<double>[StageLatencies.Count];
        for (int s = 0; s < stages.Length; s++)
        {
            stages[s] = [];
        }

        GcCounts collections = GcCounts.Now();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp();
        long until = start + (long)(seconds * Stopwatch.Frequency);
        int frames = 0;
        long now = start;
        do
        {
            long t0 = now;
            Frame frame = await source.CaptureAsync(PipelineRig.Trigger(), cancellationToken).ConfigureAwait(false);
            try
            {
                long t1 = Stopwatch.GetTimestamp();
                TileLayout layout = preprocessor.GetLayout(frame.Width, frame.Height, manifest);
                float[] input = new float[layout.Count * model.InputElements];
                preprocessor.Preprocess(frame, layout, manifest, input);
                long t2 = Stopwatch.GetTimestamp();
                using var value = OrtValue.CreateTensorValueFromMemory(input, model.InputShape(layout.Count));
                using var runOptions = new RunOptions();
                using IDisposableReadOnlyCollection<OrtValue> outputs = model.Bare.Run(runOptions, inputNames, [value], outputNames);
                long t3 = Stopwatch.GetTimestamp();
                var result = new InspectionResult { Sequence = frames, FrameId = frame.FrameId, ImageWidth = frame.Width, ImageHeight = frame.Height };
                postprocessor.Postprocess(outputs[0].GetTensorDataAsSpan<float>(), layout, manifest, result);
                long t4 = Stopwatch.GetTimestamp();
                await sink.PublishAsync(result, frame, cancellationToken).ConfigureAwait(false);
                now = Stopwatch.GetTimestamp();
                stages[(int)PipelineStage.Capture].Add(Milliseconds(t0, t1));
                stages[(int)PipelineStage.Preprocess].Add(Milliseconds(t1, t2));
                stages[(int)PipelineStage.Inference].Add(Milliseconds(t2, t3));
                stages[(int)PipelineStage.Postprocess].Add(Milliseconds(t3, t4));
                stages[(int)PipelineStage.Publish].Add(Milliseconds(t4, now));
                totals.Add(Milliseconds(t0, now));
            }
            finally
            {
                frame.Dispose();
            }

            frames++;
        }
        while (now < until || frames < minFrames);

        double elapsed = Stopwatch.GetElapsedTime(start, now).TotalSeconds;
        double cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        var arrays = new double[stages.Length][];
        for (int s = 0; s < stages.Length; s++)
        {
            arrays[s] = [.. stages[s]];
        }

        return new Throughput(frames, elapsed, cpuSeconds, bytes, GcCounts.Now() - collections, new LatencySample([.. totals], arrays));
    }

    private static double Milliseconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}

/// <summary>A sink that takes results and does nothing, standing in for a broker that does not exist yet.</summary>
internal sealed class NullSink : IResultSink
{
    public string Name => "null";

    public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
