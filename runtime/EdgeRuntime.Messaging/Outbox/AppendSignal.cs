using System.Threading.Tasks.Sources;

namespace EdgeRuntime.Messaging.Outbox;

/// <summary>
/// A reader's wake-up call from the outbox, reused for every wait, so following the appends allocates nothing per record
/// (a task per wait was one of the publish path's allocations per result). Armed by the outbox under its lock when the
/// reader finds nothing to read, set by the next append under the same lock, so no append is missed between the two.
/// Awaited by its one reader, one wait at a time.
/// </summary>
internal sealed class AppendSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private int _armed;

    /// <summary>Arms the signal for one wait. Called under the outbox's lock, while the reader is not waiting.</summary>
    public void Arm()
    {
        _core.Reset();
        Volatile.Write(ref _armed, 1);
    }

    /// <summary>Wakes the armed wait, if any (an append, under the outbox's lock).</summary>
    public void Set()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _core.SetResult(true);
        }
    }

    /// <summary>Ends the armed wait, if any, with <paramref name="error"/> (cancellation, or the outbox disposed).</summary>
    public void Fail(Exception error)
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _core.SetException(error);
        }
    }

    /// <summary>Waits for the armed signal.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The outbox was disposed.</exception>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled && Volatile.Read(ref _armed) == 1)
        {
            // A registration node of the token's source is reused once released, so this allocates nothing in steady state.
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((AppendSignal)state!).Fail(new OperationCanceledException(token)), this);
        }

        return new ValueTask(this, _core.Version);
    }

    void IValueTaskSource.GetResult(short token)
    {
        // Continuations run asynchronously, so this never runs inside the cancellation callback it waits for.
        _cancellation.Dispose();
        _cancellation = default;
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
