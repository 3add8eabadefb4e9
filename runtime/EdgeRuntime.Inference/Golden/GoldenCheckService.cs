using EdgeRuntime.Inference.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Inference.Golden;

/// <summary>
/// Judges the serving model's golden samples again every <see cref="ModelOptions.GoldenCheckMinutes"/> minutes
/// (<see cref="OnnxModelProvider.CheckGoldenSamplesAsync"/>): beside the pipeline, on a lease and its own buffers, one
/// image at a time. A disagreement turns the model state degraded (health reports it); the check itself never stops the
/// service. Does nothing when the interval is 0.
/// </summary>
public sealed partial class GoldenCheckService : BackgroundService
{
    private readonly OnnxModelProvider _models;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly DateTimeOffset _anchor;

    public GoldenCheckService(OnnxModelProvider models, IOptions<ModelOptions> options, TimeProvider timeProvider, ILogger<GoldenCheckService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _models = models;
        _time = timeProvider;
        _logger = logger;
        _interval = TimeSpan.FromMinutes(options.Value.GoldenCheckMinutes);

        // The schedule counts from here, not from whenever the host gets round to running ExecuteAsync.
        _anchor = timeProvider.GetUtcNow();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_interval <= TimeSpan.Zero)
        {
            return;
        }

        Log.Scheduled(_logger, _interval.TotalMinutes);
        DateTimeOffset next = _anchor + _interval;
        try
        {
            while (true)
            {
                TimeSpan wait = next - _time.GetUtcNow();
                await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, _time, stoppingToken).ConfigureAwait(false);
                GoldenCheckReport? report = await _models.CheckGoldenSamplesAsync(stoppingToken).ConfigureAwait(false);
                if (report is { Passed: true })
                {
                    Log.Passed(_logger, report.Model.Id, report.Model.Version, report.Samples);
                }

                // A check that overran its interval is not followed by a burst of catch-up checks.
                DateTimeOffset now = _time.GetUtcNow();
                do
                {
                    next += _interval;
                }
                while (next <= now);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(120, LogLevel.Information, "Golden samples of the serving model are judged again every {Minutes} min")]
        public static partial void Scheduled(ILogger logger, double minutes);

        [LoggerMessage(121, LogLevel.Debug, "Periodic golden check: model {ModelId} {Version}, all {Count} samples agree")]
        public static partial void Passed(ILogger logger, string modelId, string version, int count);
    }
}
