using EdgeRuntime.Host.Commands;
using EdgeRuntime.Messaging.Commands;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeRuntime.Host.Composition;

/// <summary>
/// <c>restart</c>'s seam: after the delay, a graceful stop (the pipeline drains, the outbox flushes, status goes
/// offline) with exit code <see cref="ExitCodes.RestartRequested"/>, which systemd's <c>Restart=</c> answers by starting
/// the service again (see systemd/edge-runtime.service). Thread-safe; the timer is disposed with the host.
/// </summary>
internal sealed partial class HostRestarter(IHostApplicationLifetime lifetime, TimeProvider timeProvider, ILogger<HostRestarter> logger) : IServiceRestarter, IDisposable
{
    private readonly Lock _gate = new();
    private ITimer? _timer;

    /// <inheritdoc />
    public bool RestartPending
    {
        get
        {
            lock (_gate)
            {
                return _timer is not null;
            }
        }
    }

    /// <inheritdoc />
    public bool RequestRestart(TimeSpan delay, string reason)
    {
        lock (_gate)
        {
            if (_timer is not null)
            {
                return false;
            }

            Log.RestartRequested(logger, reason, delay.TotalSeconds);
            _timer = timeProvider.CreateTimer(static state => ((HostRestarter)state!).Stop(), this, delay, Timeout.InfiniteTimeSpan);
            return true;
        }
    }

    private void Stop()
    {
        Environment.ExitCode = ExitCodes.RestartRequested;
        lifetime.StopApplication();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Restart requested ({Reason}): the service stops in {DelaySeconds} s with exit code 4 for its supervisor to start it again")]
        public static partial void RestartRequested(ILogger logger, string reason, double delaySeconds);
    }
}
