using EdgeRuntime.Core.Options;
using EdgeRuntime.Core.Pipeline;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Hardware.Outputs;

/// <summary>What drives the reject output.</summary>
public enum DigitalOutputKind
{
    /// <summary>No hardware: an <see cref="InMemoryDigitalOutput"/> records what the line would have done.</summary>
    None,

    /// <summary>A GPIO line (<see cref="GpioDigitalOutput"/>).</summary>
    Gpio,
}

/// <summary>The <c>Reject:Output</c> subsection.</summary>
public sealed class DigitalOutputOptions
{
    /// <summary>What drives the line.</summary>
    public DigitalOutputKind Kind { get; set; } = DigitalOutputKind.None;

    /// <summary>GPIO chip number (<c>/dev/gpiochipN</c>).</summary>
    public int Chip { get; set; }

    /// <summary>Line offset on the chip; -1 means not configured.</summary>
    public int Line { get; set; } = -1;

    /// <summary>Whether active (reject) means electrically low.</summary>
    public bool ActiveLow { get; set; }
}

/// <summary>The <c>Reject</c> section: when and how long the reject output pulses for a FAIL verdict.</summary>
public sealed class RejectOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Reject";

    /// <summary>Whether FAIL verdicts pulse the output at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Milliseconds from the trigger to the moment the part reaches the reject gate. Must be at least
    /// <c>Pipeline:DeadlineMs</c>, so every verdict, the fail-safe included, exists before its part arrives.
    /// </summary>
    public int DelayMs { get; set; } = 2500;

    /// <summary>Milliseconds the output stays active per reject.</summary>
    public int PulseMs { get; set; } = 100;

    /// <summary>The output line.</summary>
    public DigitalOutputOptions Output { get; set; } = new();
}

/// <summary>Validates <see cref="RejectOptions"/> at start-up, against <see cref="PipelineOptions.DeadlineMs"/> too.</summary>
public sealed class RejectOptionsValidator(IOptions<PipelineOptions> pipeline) : IValidateOptions<RejectOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RejectOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pipeline);
        var problems = new OptionsProblems(RejectOptions.SectionName);
        if (!options.Enabled)
        {
            return problems.ToResult();
        }

        int deadlineMs = pipeline.Value.DeadlineMs;
        problems.InRange(options.DelayMs, nameof(options.DelayMs), 0, 600_000, " milliseconds");
        problems.Check(options.DelayMs >= deadlineMs, nameof(options.DelayMs), options.DelayMs,
            $"must be at least Pipeline:DeadlineMs ({deadlineMs}), or verdicts issued at the deadline reach the reject gate after the part");
        problems.InRange(options.PulseMs, nameof(options.PulseMs), 1, 60_000, " milliseconds");
        DigitalOutputOptions? output = options.Output;
        if (output is null)
        {
            problems.Add(nameof(options.Output), null, "must be an object with Kind, Chip, Line and ActiveLow");
            return problems.ToResult();
        }

        problems.Defined(output.Kind, "Output:Kind");
        if (output.Kind == DigitalOutputKind.Gpio)
        {
            problems.InRange(output.Chip, "Output:Chip", 0, 63);
            problems.Check(output.Line is >= 0 and <= 1023, "Output:Line", output.Line, "must be the line offset on the chip, 0 to 1023 (see `gpioinfo`)");
        }

        return problems.ToResult();
    }
}
