namespace EdgeRuntime.Core.Pipeline;

/// <summary>
/// A fixed set of <see cref="InspectionJob"/>s. <see cref="TryRent"/> never allocates; when every job is in
/// flight the pipeline is full and the trigger is dropped (or, for on-demand triggers, waited for). Thread-safe.
/// </summary>
internal sealed class JobPool : IDisposable
{
    private readonly InspectionJob[] _all;
    private readonly Stack<InspectionJob> _free;
    private readonly SemaphoreSlim _available;
    private readonly Lock _gate = new();

    public JobPool(int size)
    {
        _all = new InspectionJob[size];
        _free = new Stack<InspectionJob>(size);
        for (int i = 0; i < size; i++)
        {
            _all[i] = new InspectionJob();
            _free.Push(_all[i]);
        }

        _available = new SemaphoreSlim(size, size);
    }

    public int Size => _all.Length;

    public int Free
    {
        get
        {
            lock (_gate)
            {
                return _free.Count;
            }
        }
    }

    public bool TryRent(out InspectionJob job)
    {
        if (!_available.Wait(0))
        {
            job = null!;
            return false;
        }

        lock (_gate)
        {
            job = _free.Pop();
            return true;
        }
    }

    public async ValueTask<InspectionJob> RentAsync(CancellationToken cancellationToken)
    {
        await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            return _free.Pop();
        }
    }

    /// <summary>Returns a job whose frame and lease were released.</summary>
    public void Return(InspectionJob job)
    {
        job.ReleaseFrameAndLease();
        job.MarkIdle();
        lock (_gate)
        {
            _free.Push(job);
        }

        _available.Release();
    }

    public void Dispose()
    {
        foreach (InspectionJob job in _all)
        {
            job.Dispose();
        }

        _available.Dispose();
    }
}
