namespace EdgeRuntime.Core.Pipeline;

/// <summary>
/// The pipeline's books: every trigger ends as exactly one inspected result, deadline miss, error or drop,
/// or is still in flight. <c>Triggers == Inspected + DeadlineMissed + Dropped + InFlight</c> at every
/// snapshot taken while quiescent, and health shows whether the books balance. Thread-safe, lock-free.
/// </summary>
public sealed class PipelineLedger
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private long _triggers;
    private long _passed;
    private long _failed;
    private long _deadlineMissed;
    private long _lateResults;
    private long _failSafeOverflow;

    /// <summary>Counts a trigger.</summary>
    public void Triggered() => Interlocked.Increment(ref _triggers);

    /// <summary>Counts an inspected result.</summary>
    public void Inspected(Inspection.Verdict verdict)
    {
        if (verdict == Inspection.Verdict.Pass)
        {
            Interlocked.Increment(ref _passed);
        }
        else
        {
            Interlocked.Increment(ref _failed);
        }
    }

    /// <summary>Counts a trigger that got the fail-safe verdict at its deadline.</summary>
    public void DeadlineMissed() => Interlocked.Increment(ref _deadlineMissed);

    /// <summary>Counts a dropped trigger.</summary>
    public void Dropped(DropReason reason) => Interlocked.Increment(ref _drops[(int)reason]);

    /// <summary>Counts a verdict that arrived after its deadline had already issued the fail-safe (not a new trigger outcome).</summary>
    public void LateResult() => Interlocked.Increment(ref _lateResults);

    /// <summary>Counts a fail-safe notice that could not be published because the fail-safe backlog was full.</summary>
    public void FailSafeOverflow() => Interlocked.Increment(ref _failSafeOverflow);

    /// <summary>A consistent-enough copy of the counters (each read atomically).</summary>
    public LedgerSnapshot Snapshot()
    {
        var drops = new long[_drops.Length];
        long dropped = 0;
        for (int i = 0; i < drops.Length; i++)
        {
            drops[i] = Interlocked.Read(ref _drops[i]);
            dropped += drops[i];
        }

        // Outcomes are read before triggers so that a trigger counted in between shows as in flight, never negative.
        long passed = Interlocked.Read(ref _passed);
        long failed = Interlocked.Read(ref _failed);
        long missed = Interlocked.Read(ref _deadlineMissed);
        long triggers = Interlocked.Read(ref _triggers);
        return new LedgerSnapshot(triggers, passed, failed, missed, dropped, drops,
            Interlocked.Read(ref _lateResults), Interlocked.Read(ref _failSafeOverflow));
    }
}

/// <summary>The books at one moment.</summary>
/// <param name="Triggers">Triggers received.</param>
/// <param name="Passed">Inspected results with verdict PASS.</param>
/// <param name="Failed">Inspected results with verdict FAIL.</param>
/// <param name="DeadlineMissed">Triggers that got the fail-safe verdict at their deadline.</param>
/// <param name="Dropped">Triggers dropped, all reasons.</param>
/// <param name="DropsByReason">Drops indexed by <see cref="DropReason"/>.</param>
/// <param name="LateResults">Verdicts that came after the deadline's fail-safe (informational).</param>
/// <param name="FailSafeOverflow">Fail-safe notices lost because their backlog was full.</param>
public sealed record LedgerSnapshot(
    long Triggers,
    long Passed,
    long Failed,
    long DeadlineMissed,
    long Dropped,
    IReadOnlyList<long> DropsByReason,
    long LateResults,
    long FailSafeOverflow)
{
    /// <summary>Results published from inspections.</summary>
    public long Inspected => Passed + Failed;

    /// <summary>Triggers not yet accounted for: in flight through the pipeline.</summary>
    public long InFlight => Triggers - Inspected - DeadlineMissed - Dropped;

    /// <summary>Drops for one reason.</summary>
    public long DropsFor(DropReason reason) => DropsByReason[(int)reason];

    /// <summary>
    /// Whether the books balance: nothing is counted twice (in flight never negative) and, when the queues are known,
    /// the triggers in flight are ones the pipeline actually holds (queued, in a stage, or being published; one
    /// more may sit between two counters read at slightly different moments).
    /// </summary>
    public bool Balances(QueueDepths? depths = null) =>
        InFlight >= 0 && (depths is not { } d || InFlight <= d.Trigger + d.InFlight + d.Publish + 1);
}
