using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Diagnostics.Console;

/// <summary>The <c>Console</c> section: what the service prints for a person watching it.</summary>
public sealed class ConsoleReportOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Console";

    /// <summary>Print one line per result (seq, verdict, defects, latency). Off under systemd, where MQTT carries results.</summary>
    public bool PrintResults { get; set; } = true;

    /// <summary>Seconds between summary lines (fps, p50/p99 latency, the books); 0 turns them off.</summary>
    public int SummaryIntervalSeconds { get; set; } = 5;
}

/// <summary>Validates <see cref="ConsoleReportOptions"/>.</summary>
public sealed class ConsoleReportOptionsValidator : IValidateOptions<ConsoleReportOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ConsoleReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(ConsoleReportOptions.SectionName);
        problems.InRange(options.SummaryIntervalSeconds, nameof(options.SummaryIntervalSeconds), 0, 3600, " seconds");
        return problems.ToResult();
    }
}
