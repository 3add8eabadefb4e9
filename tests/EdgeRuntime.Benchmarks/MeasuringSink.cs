using System.Diagnostics;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// The pipeline's last sink. A window starts at <see cref="Begin"/> (the clock, the process's CPU time, allocated bytes
/// and collection counts) and ends at the result that completes the armed count, where the same are taken again; each
/// result's latencies go into preallocated arrays, so measuring adds no allocation to what is measured. Called by the
/// publish stage only (the <see cref="IResultSink"/> contract); <see cref="Arm"/>, <see cref="Begin"/> and the
/// readers run while the pipeline is idle.
/// </summary>
internal sealed class MeasuringSink : IResultSink
{
    private readonly double[] _totals;
    private readonly double[][] _stages = new double[StageLatencies.Count][];
    private int _frames;
    private long _inspected;
    private long _failSafe;
    private int _recorded;
    private bool _closed;
    private long _startTimestamp;
    private long _endTimestamp;
    private long _startAllocated;
    private long _endAllocated;
    private TimeSpan _startCpu;
    private TimeSpan _endCpu;
    private GcCounts _startCollections;
    private GcCounts _endCollections;
    private TaskCompletionSource _closedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="capacity">Most results whose latencies one window keeps (later ones are counted, not kept).</param>
    public MeasuringSink(int capacity)
    {
        _totals = new double[capacity];
        for (int s = 0; s < _stages.Length; s++)
        {
            _stages[s] = new double[capacity];
        }
    }

    public string Name => "bench";

    /// <summary>Completes when the window has closed.</summary>
    public Task Closed => _closedSignal.Task;

    public bool IsClosed => Volatile.Read(ref _closed);

    public long Inspected => Interlocked.Read(ref _inspected);

    public long FailSafe => Interlocked.Read(ref _failSafe);

    /// <summary>Prepares a window of the next <paramref name="frames"/> results.</summary>
    public void Arm(int frames)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frames);
        _frames = frames;
        _inspected = 0;
        _failSafe = 0;
        _recorded = 0;
        _closed = false;
        _closedSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Opens the armed window now (call right as the frames are let in).</summary>
    public void Begin()
    {
        _startCollections = GcCounts.Now();
        _startAllocated = GC.GetTotalAllocatedBytes(precise: true);
        _startCpu = Environment.CpuUsage.TotalTime;
        _startTimestamp = Stopwatch.GetTimestamp();
    }

    public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
    {
        // Fail-safe results close a window too (a burst of N triggers yields N results either way); the run refuses a
        // window that holds any, so they never pass as measurements.
        if (result.Status == ResultStatus.Inspected)
        {
            Interlocked.Increment(ref _inspected);
        }
        else
        {
            Interlocked.Increment(ref _failSafe);
        }

        if (_closed)
        {
            return ValueTask.CompletedTask;
        }

        if (_recorded < _totals.Length)
        {
            _totals[_recorded] = result.Latencies.TotalMilliseconds;
            for (int s = 0; s < _stages.Length; s++)
            {
                _stages[s][_recorded] = result.Latencies[(PipelineStage)s];
            }
        }

        _recorded++;
        if (_recorded >= _frames)
        {
            _endTimestamp = Stopwatch.GetTimestamp();
            _endCpu = Environment.CpuUsage.TotalTime;
            _endAllocated = GC.GetTotalAllocatedBytes(precise: true);
            _endCollections = GcCounts.Now();
            Volatile.Write(ref _closed, true);
            _closedSignal.TrySetResult();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>What the closed window measured.</summary>
    public Throughput Result()
    {
        if (!IsClosed)
        {
            throw new InvalidOperationException("the window has not closed");
        }

        int kept = Math.Min(_recorded, _totals.Length);
        var stages = new double[_stages.Length][];
        for (int s = 0; s < stages.Length; s++)
        {
            stages[s] = _stages[s].AsSpan(0, kept).ToArray();
        }

        return new Throughput(_recorded, Stopwatch.GetElapsedTime(_startTimestamp, _endTimestamp).TotalSeconds, (_endCpu - _startCpu).TotalSeconds,
            _endAllocated - _startAllocated, _endCollections - _startCollections, new LatencySample(_totals.AsSpan(0, kept).ToArray(), stages));
    }
}

/// <summary>Garbage collections so far, per generation.</summary>
internal readonly record struct GcCounts(int Gen0, int Gen1, int Gen2)
{
    public static GcCounts Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

    public static GcCounts operator -(GcCounts end, GcCounts start) => new(end.Gen0 - start.Gen0, end.Gen1 - start.Gen1, end.Gen2 - start.Gen2);

    public static GcCounts operator +(GcCounts a, GcCounts b) => new(a.Gen0 + b.Gen0, a.Gen1 + b.Gen1, a.Gen2 + b.Gen2);
}

/// <summary>Trigger-to-result and per-stage latencies of the results in a window, in milliseconds.</summary>
/// <param name="Totals">Trigger to verdict, per result.</param>
/// <param name="Stages">Per <see cref="PipelineStage"/>, per result (queueing included in the stage that waited).</param>
internal sealed record LatencySample(double[] Totals, double[][] Stages)
{
    public static LatencySample Empty { get; } = new([], CreateStages(0));

    public static double[][] CreateStages(int length)
    {
        var stages = new double[StageLatencies.Count][];
        for (int s = 0; s < stages.Length; s++)
        {
            stages[s] = new double[length];
        }

        return stages;
    }

    public static LatencySample Concat(IReadOnlyList<LatencySample> samples)
    {
        var totals = new List<double>();
        var stages = new List<double>[StageLatencies.Count];
        for (int s = 0; s < stages.Length; s++)
        {
            stages[s] = [];
        }

        foreach (LatencySample sample in samples)
        {
            totals.AddRange(sample.Totals);
            for (int s = 0; s < stages.Length; s++)
            {
                stages[s].AddRange(sample.Stages[s]);
            }
        }

        var arrays = new double[stages.Length][];
        for (int s = 0; s < stages.Length; s++)
        {
            arrays[s] = [.. stages[s]];
        }

        return new LatencySample([.. totals], arrays);
    }
}

/// <summary>
/// Frames completed in a measured stretch, with the process's CPU time (all threads: the runtime's stages and ONNX
/// Runtime's pool alike) and the managed allocations and collections that happened in it.
/// </summary>
internal sealed record Throughput(int Frames, double Seconds, double CpuSeconds, long AllocatedBytes, GcCounts Collections, LatencySample Latencies)
{
    public double FramesPerSecond => Seconds > 0 ? Frames / Seconds : 0;

    /// <summary>CPU milliseconds the process spent per frame: the cost that remains when other work competes for the cores.</summary>
    public double CpuMillisecondsPerFrame => Frames > 0 ? CpuSeconds * 1000 / Frames : 0;

    /// <summary>Share of the machine's cores the process used meanwhile.</summary>
    public double CpuShare => MachineLoad.Share(CpuSeconds, Seconds);

    public double AllocatedBytesPerFrame => Frames > 0 ? (double)AllocatedBytes / Frames : 0;
}
