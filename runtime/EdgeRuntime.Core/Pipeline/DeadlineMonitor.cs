namespace EdgeRuntime.Core.Pipeline;

/// <summary>
/// Watches the triggers in flight and issues the fail-safe verdict for any that has no verdict by its
/// deadline. Deadlines are a fixed time after the trigger, so they fall due in trigger order and a FIFO
/// of (job, generation) is all the bookkeeping needed: the head is always the next one due. The ring
/// grows only when more triggers than ever before fall inside one deadline window; steady state allocates
/// only the timer wait. <see cref="Track"/> is called by the trigger stage; <see cref="RunAsync"/> by one task.
/// </summary>
internal sealed class DeadlineMonitor(TimeProvider timeProvider, Action<InspectionJob, long> onDeadlineMissed) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private (InspectionJob Job, long Generation)[] _ring = new (InspectionJob, long)[64];
    private int _head;
    private int _count;

    public void Track(InspectionJob job, long generation)
    {
        bool wasEmpty;
        lock (_gate)
        {
            if (_count == _ring.Length)
            {
                DropSettledHead();
                if (_count == _ring.Length)
                {
                    Grow();
                }
            }

            _ring[(_head + _count) % _ring.Length] = (job, generation);
            wasEmpty = _count++ == 0;
        }

        if (wasEmpty)
        {
            _wake.Release();
        }
    }

    public int Tracked
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            InspectionJob? job;
            long generation;
            lock (_gate)
            {
                DropSettledHead();
                if (_count == 0)
                {
                    job = null;
                    generation = 0;
                }
                else
                {
                    (job, generation) = _ring[_head];
                }
            }

            if (job is null)
            {
                await _wake.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            long deadline = job.DeadlineTimestamp;
            long now = timeProvider.GetTimestamp();
            if (job.Generation == generation && now < deadline)
            {
                TimeSpan wait = timeProvider.GetElapsedTime(now, deadline);
                await Task.Delay(wait, timeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }

            lock (_gate)
            {
                if (_count > 0 && ReferenceEquals(_ring[_head].Job, job) && _ring[_head].Generation == generation)
                {
                    Pop();
                }
            }

            if (job.TryFinish(generation, JobState.DeadlineMissed))
            {
                onDeadlineMissed(job, generation);
            }
        }
    }

    private void DropSettledHead()
    {
        while (_count > 0)
        {
            (InspectionJob job, long generation) = _ring[_head];
            if (job.Generation == generation && job.State == JobState.InFlight)
            {
                return;
            }

            Pop();
        }
    }

    private void Pop()
    {
        _ring[_head] = default;
        _head = (_head + 1) % _ring.Length;
        _count--;
    }

    private void Grow()
    {
        var larger = new (InspectionJob, long)[_ring.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = larger;
        _head = 0;
    }

    public void Dispose() => _wake.Dispose();
}
