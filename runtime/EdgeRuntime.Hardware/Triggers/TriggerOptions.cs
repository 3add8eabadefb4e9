using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Hardware.Triggers;

/// <summary>Which trigger source drives the pipeline.</summary>
public enum TriggerKind
{
    /// <summary>A fixed interval (<see cref="TriggerOptions.IntervalMs"/>): a line running at constant speed, or a demo.</summary>
    Timer,

    /// <summary>As fast as the pipeline takes frames, optionally capped by <see cref="TriggerOptions.MaxRateHz"/>.</summary>
    FreeRun,

    /// <summary>Only on request (the MQTT <c>capture</c> command, the diagnostics page).</summary>
    Software,

    /// <summary>An edge on a GPIO line (a light barrier, a PLC output).</summary>
    Gpio,
}

/// <summary>Which electrical edge of the GPIO line means "a part is here", before <see cref="GpioTriggerOptions.ActiveLow"/> is applied.</summary>
public enum GpioEdge
{
    /// <summary>The line becomes active.</summary>
    Rising,

    /// <summary>The line becomes inactive.</summary>
    Falling,
}

/// <summary>The <c>Trigger:Gpio</c> subsection.</summary>
public sealed class GpioTriggerOptions
{
    /// <summary>GPIO chip number (<c>/dev/gpiochipN</c>).</summary>
    public int Chip { get; set; }

    /// <summary>Line offset on the chip; -1 means not configured.</summary>
    public int Line { get; set; } = -1;

    /// <summary>The edge that fires a trigger, in logical (active/inactive) terms.</summary>
    public GpioEdge Edge { get; set; } = GpioEdge.Rising;

    /// <summary>
    /// Milliseconds after an accepted edge during which further edges are ignored as contact bounce.
    /// The first edge fires at once, so debouncing adds no latency.
    /// </summary>
    public int DebounceMs { get; set; } = 5;

    /// <summary>Whether the line is active when electrically low (open-collector sensors, NPN outputs).</summary>
    public bool ActiveLow { get; set; }
}

/// <summary>The <c>Trigger</c> section.</summary>
public sealed class TriggerOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Trigger";

    /// <summary>Which trigger source drives the pipeline.</summary>
    public TriggerKind Kind { get; set; } = TriggerKind.Timer;

    /// <summary>Milliseconds between timer triggers (<see cref="TriggerKind.Timer"/>).</summary>
    public int IntervalMs { get; set; } = 500;

    /// <summary>Most free-run triggers per second; 0 means as fast as the pipeline takes frames (<see cref="TriggerKind.FreeRun"/>).</summary>
    public double MaxRateHz { get; set; }

    /// <summary>The GPIO line (<see cref="TriggerKind.Gpio"/>).</summary>
    public GpioTriggerOptions Gpio { get; set; } = new();
}

/// <summary>Validates <see cref="TriggerOptions"/> at start-up; only the keys of the chosen kind must be valid.</summary>
public sealed class TriggerOptionsValidator : IValidateOptions<TriggerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(TriggerOptions.SectionName);
        problems.Defined(options.Kind, nameof(options.Kind));
        switch (options.Kind)
        {
            case TriggerKind.Timer:
                problems.InRange(options.IntervalMs, nameof(options.IntervalMs), 1, 3_600_000, " milliseconds");
                break;
            case TriggerKind.FreeRun:
                problems.InRange(options.MaxRateHz, nameof(options.MaxRateHz), 0, 10_000, " triggers per second (0 = no cap)");
                break;
            case TriggerKind.Gpio:
                ValidateGpio(problems, options.Gpio);
                break;
            default:
                break;
        }

        return problems.ToResult();
    }

    private static void ValidateGpio(OptionsProblems problems, GpioTriggerOptions? gpio)
    {
        if (gpio is null)
        {
            problems.Add("Gpio", null, "must be an object with Chip, Line, Edge, DebounceMs and ActiveLow when Kind is Gpio");
            return;
        }

        problems.InRange(gpio.Chip, "Gpio:Chip", 0, 63);
        problems.Check(gpio.Line is >= 0 and <= 1023, "Gpio:Line", gpio.Line, "must be the line offset on the chip, 0 to 1023 (see `gpioinfo`)");
        problems.Defined(gpio.Edge, "Gpio:Edge");
        problems.InRange(gpio.DebounceMs, "Gpio:DebounceMs", 0, 10_000, " milliseconds");
    }
}
