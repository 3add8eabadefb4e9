using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Gpio;
using EdgeRuntime.Hardware.Outputs;
using EdgeRuntime.Hardware.Sources;
using EdgeRuntime.Hardware.Triggers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Hardware;

/// <summary>
/// The one place that maps the <c>Kind</c> of the <c>Trigger</c>, <c>Source</c> and <c>Reject:Output</c> sections onto
/// implementations, for the composition root. Options are expected to be validated already. The caller owns what is
/// returned and disposes it if it is <see cref="IDisposable"/> (a DI container does this for factory registrations).
/// </summary>
public static class HardwareFactory
{
    /// <summary>Opens a GPIO chip through libgpiod (the driver for Jetson boards); the caller owns the driver.</summary>
    /// <exception cref="InvalidOperationException">The chip or libgpiod is not there (the message names the chip).</exception>
    public static GpioDriver OpenGpioChip(int chip)
    {
        try
        {
            return new LibGpiodDriver(chip);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException || GpioLevels.IsDriverFailure(ex))
        {
            throw new InvalidOperationException($"GPIO chip /dev/gpiochip{chip} cannot be opened (is libgpiod installed and the chip present?): {ex.Message}", ex);
        }
    }

    /// <summary>Creates the trigger source the options ask for.</summary>
    /// <param name="options">The validated <c>Trigger</c> section.</param>
    /// <param name="software">The software trigger, shared with the capture command; returned for <see cref="TriggerKind.Software"/>.</param>
    /// <param name="timeProvider">Clock for timers, pacing and timestamps.</param>
    /// <param name="loggers">Logger factory.</param>
    /// <param name="openGpioChip">Opens a chip's driver; <see cref="OpenGpioChip"/> when null.</param>
    public static ITriggerSource CreateTrigger(
        TriggerOptions options,
        SoftwareTrigger software,
        TimeProvider timeProvider,
        ILoggerFactory loggers,
        Func<int, GpioDriver>? openGpioChip = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(software);
        ArgumentNullException.ThrowIfNull(loggers);
        IOptions<TriggerOptions> wrapped = Options.Create(options);
        return options.Kind switch
        {
            TriggerKind.Timer => new TimerTrigger(wrapped, timeProvider),
            TriggerKind.FreeRun => new FreeRunTrigger(wrapped, timeProvider),
            TriggerKind.Software => software,
            TriggerKind.Gpio => new GpioTrigger(wrapped, (openGpioChip ?? OpenGpioChip)(options.Gpio.Chip), timeProvider, loggers.CreateLogger<GpioTrigger>()),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, "Trigger:Kind must be Timer, FreeRun, Software or Gpio"),
        };
    }

    /// <summary>Creates the frame source the options ask for.</summary>
    /// <exception cref="InvalidOperationException">The kind is not available in this build, or the replay folder is unusable.</exception>
    public static IFrameSource CreateSource(SourceOptions options, FramePool pool, TimeProvider timeProvider, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        IOptions<SourceOptions> wrapped = Options.Create(options);
        return options.Kind switch
        {
            SourceKind.Replay => new ReplayFrameSource(wrapped, pool, timeProvider, loggers.CreateLogger<ReplayFrameSource>()),
            SourceKind.Synthetic => new SyntheticFrameSource(wrapped, pool, timeProvider),
            SourceKind.Camera => throw new InvalidOperationException("Source:Kind = \"Camera\": the camera source is not available in this build; use Replay or Synthetic"),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, "Source:Kind must be Replay or Synthetic"),
        };
    }

    /// <summary>Creates the reject output line the options ask for.</summary>
    /// <param name="options">The validated <c>Reject</c> section.</param>
    /// <param name="timeProvider">Clock for the in-memory output's history.</param>
    /// <param name="openGpioChip">Opens a chip's driver; <see cref="OpenGpioChip"/> when null.</param>
    public static IDigitalOutput CreateRejectOutput(RejectOptions options, TimeProvider timeProvider, Func<int, GpioDriver>? openGpioChip = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        DigitalOutputOptions output = options.Output;
        return output.Kind switch
        {
            DigitalOutputKind.None => new InMemoryDigitalOutput(timeProvider, "none"),
            DigitalOutputKind.Gpio => new GpioDigitalOutput(
                (openGpioChip ?? OpenGpioChip)(output.Chip), output.Line, output.ActiveLow, $"gpiochip{output.Chip}:{output.Line}"),
            _ => throw new ArgumentOutOfRangeException(nameof(options), output.Kind, "Reject:Output:Kind must be None or Gpio"),
        };
    }
}
