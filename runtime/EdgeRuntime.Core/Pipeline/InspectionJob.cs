using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.Core.Triggers;

namespace EdgeRuntime.Core.Pipeline;

/// <summary>Where a job is in its life. Exactly one transition out of <see cref="InFlight"/> wins.</summary>
internal enum JobState
{
    Idle = 0,
    InFlight = 1,
    Completed = 2,
    DeadlineMissed = 3,
    Dropped = 4,
}

/// <summary>
/// Everything one trigger needs on its way through the pipeline: the frame, the tensors, the result.
/// Jobs are pooled (<see cref="JobPool"/>) so steady-state operation allocates nothing; their count bounds
/// the pipeline's memory. A job moves between stages through channels and has one owner at a time,
/// except for its state word, which the deadline monitor races for with a compare-and-swap.
/// </summary>
internal sealed class InspectionJob : IDisposable
{
    // Generation in the high bits, state in the low byte: a stale deadline entry for a recycled job can never win.
    private long _stateWord;

    public long Generation => Volatile.Read(ref _stateWord) >> 8;

    public JobState State => (JobState)(Volatile.Read(ref _stateWord) & 0xFF);

    public TriggerSignal Trigger { get; private set; }

    public long Sequence { get; private set; }

    /// <summary>Monotonic timestamp at which the fail-safe verdict is due.</summary>
    public long DeadlineTimestamp { get; private set; }

    /// <summary>Monotonic timestamp at which the current stage started waiting for or working on the job.</summary>
    public long StageStartTimestamp { get; set; }

    public Frame? Frame { get; set; }

    /// <summary>The job's tensors, kept across lives (a field so <see cref="InferenceBuffersReuse.Reuse"/> can replace them).</summary>
    public InferenceBuffers? Buffers;

    public ModelLease Lease { get; set; }

    public bool HasLease { get; set; }

    public TileLayout? Layout { get; set; }

    public InspectionResult Result { get; } = new();

    /// <summary>Starts a new life for the job; returns its generation.</summary>
    public long Start(TriggerSignal trigger, long sequence, long deadlineTimestamp)
    {
        long generation = (Volatile.Read(ref _stateWord) >> 8) + 1;
        Trigger = trigger;
        Sequence = sequence;
        DeadlineTimestamp = deadlineTimestamp;
        StageStartTimestamp = trigger.Timestamp;
        Result.Reset();
        Result.Sequence = sequence;
        Result.Trigger = trigger;
        Volatile.Write(ref _stateWord, (generation << 8) | (long)JobState.InFlight);
        return generation;
    }

    /// <summary>Moves the job of <paramref name="generation"/> out of flight; false when something else already did.</summary>
    public bool TryFinish(long generation, JobState outcome)
    {
        long expected = (generation << 8) | (long)JobState.InFlight;
        return Interlocked.CompareExchange(ref _stateWord, (generation << 8) | (long)outcome, expected) == expected;
    }

    /// <summary>Returns the frame and the model lease; keeps the tensors for the next life.</summary>
    public void ReleaseFrameAndLease()
    {
        Frame?.Dispose();
        Frame = null;
        Layout = null;
        if (HasLease)
        {
            HasLease = false;
            Lease.Dispose();
            Lease = default;
        }
    }

    public void MarkIdle()
    {
        long generation = Volatile.Read(ref _stateWord) >> 8;
        Volatile.Write(ref _stateWord, (generation << 8) | (long)JobState.Idle);
    }

    public void Dispose()
    {
        ReleaseFrameAndLease();
        Buffers?.Dispose();
        Buffers = null;
    }
}
