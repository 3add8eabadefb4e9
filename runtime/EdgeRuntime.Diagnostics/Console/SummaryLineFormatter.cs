using System.Globalization;
using EdgeRuntime.Core.Pipeline;

namespace EdgeRuntime.Diagnostics.Console;

/// <summary>The periodic summary line: throughput, latency percentiles and the books.</summary>
public static class SummaryLineFormatter
{
    /// <summary>
    /// <c>[summary] 4.2 fps  p50 231.0 ms  p99 298.4 ms | 120 triggers = 117 inspected (21 FAIL) + 0 deadline-missed + 3 dropped + 0 in flight</c>
    /// </summary>
    public static string Format(LatencySummary latency, LedgerSnapshot books)
    {
        ArgumentNullException.ThrowIfNull(latency);
        ArgumentNullException.ThrowIfNull(books);
        string drops = books.Dropped == 0 ? string.Empty : " (" + string.Join(", ",
            Enum.GetValues<DropReason>().Where(r => books.DropsFor(r) > 0).Select(r => $"{r.Name()} {books.DropsFor(r)}")) + ")";
        return string.Create(CultureInfo.InvariantCulture,
            $"[summary] {latency.FramesPerSecond:F1} fps  p50 {latency.P50Milliseconds:F1} ms  p99 {latency.P99Milliseconds:F1} ms | " +
            $"{books.Triggers} triggers = {books.Inspected} inspected ({books.Failed} FAIL) + {books.DeadlineMissed} deadline-missed + " +
            $"{books.Dropped} dropped{drops} + {books.InFlight} in flight");
    }
}
