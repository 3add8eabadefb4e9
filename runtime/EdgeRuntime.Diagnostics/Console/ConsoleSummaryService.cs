using EdgeRuntime.Core.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Diagnostics.Console;

/// <summary>Prints the summary line every <see cref="ConsoleReportOptions.SummaryIntervalSeconds"/> seconds, and once at shutdown.</summary>
public sealed class ConsoleSummaryService(
    IOptions<ConsoleReportOptions> options,
    PipelineLedger ledger,
    LatencyStatistics statistics,
    TimeProvider timeProvider,
    TextWriter output) : BackgroundService
{
    private readonly int _intervalSeconds = options.Value.SummaryIntervalSeconds;
    private int _finalPrinted;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_intervalSeconds == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_intervalSeconds), timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                output.WriteLine(SummaryLineFormatter.Format(statistics.Summarize(_intervalSeconds), ledger.Snapshot()));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // The host may stop a service more than once (Ctrl-C, then the lifetime's own stop); the books print once.
        if (_intervalSeconds != 0 && Interlocked.Exchange(ref _finalPrinted, 1) == 0)
        {
            output.WriteLine(SummaryLineFormatter.Format(statistics.Summarize(), ledger.Snapshot()).Replace("[summary]", "[final]", StringComparison.Ordinal));
        }
    }
}
