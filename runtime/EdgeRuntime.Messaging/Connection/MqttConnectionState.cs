namespace EdgeRuntime.Messaging.Connection;

/// <summary>
/// The connection as health and tests see it. Written by the connection service, read by anyone; thread-safe.
/// <see cref="WaitConnectedAsync"/> lets a caller wait for a signal instead of polling.
/// </summary>
public sealed class MqttConnectionState
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _connects;
    private long _published;
    private long _rejected;
    private long _republished;
    private long _commands;
    private string? _lastError;
    private DateTimeOffset? _since;
    private string _protocol = string.Empty;

    /// <summary>Whether a session with the broker is up.</summary>
    public bool IsConnected
    {
        get
        {
            lock (_gate)
            {
                return _since is not null;
            }
        }
    }

    /// <summary>Successful connects since start (1 = never reconnected).</summary>
    public long Connects => Interlocked.Read(ref _connects);

    /// <summary>Outbox records the broker acknowledged since start.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Records the broker refused for good (not authorised, invalid topic) and that were skipped, each alarmed.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Records published again on request (<c>cmd/replay</c>).</summary>
    public long Republished => Interlocked.Read(ref _republished);

    /// <summary>Commands answered.</summary>
    public long Commands => Interlocked.Read(ref _commands);

    /// <summary>A snapshot for health.</summary>
    public (bool Connected, DateTimeOffset? Since, string Protocol, string? LastError) Snapshot()
    {
        lock (_gate)
        {
            return (_since is not null, _since, _protocol, _lastError);
        }
    }

    /// <summary>Completes when a session is up (at once when one is).</summary>
    public Task WaitConnectedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _connected.Task.WaitAsync(cancellationToken);
        }
    }

    internal void OnConnected(DateTimeOffset now, string protocol)
    {
        Interlocked.Increment(ref _connects);
        lock (_gate)
        {
            _since = now;
            _protocol = protocol;
            _connected.TrySetResult();
        }
    }

    internal void OnDisconnected(string? error)
    {
        lock (_gate)
        {
            _since = null;
            if (error is not null)
            {
                _lastError = error;
            }

            if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    internal void OnConnectFailed(string error)
    {
        lock (_gate)
        {
            _lastError = error;
        }
    }

    internal void OnPublished() => Interlocked.Increment(ref _published);

    internal void OnRejected() => Interlocked.Increment(ref _rejected);

    internal void OnRepublished(int count) => Interlocked.Add(ref _republished, count);

    internal void OnCommand() => Interlocked.Increment(ref _commands);
}
