using System.Device.Gpio;
using EdgeRuntime.Hardware.Gpio;

namespace EdgeRuntime.Hardware.Outputs;

/// <summary>
/// A digital output on a GPIO line through <see cref="GpioController"/>. The driver is injected (on a Jetson:
/// <c>new LibGpiodDriver(chip)</c>; in tests an in-memory <see cref="GpioDriver"/>), and the output takes
/// ownership of it: disposing the output drives the line inactive, releases it and disposes the driver.
/// Driver failures surface as <see cref="DigitalOutputException"/>. Thread-safe.
/// </summary>
public sealed class GpioDigitalOutput : IDigitalOutput, IDisposable
{
    private readonly GpioController _controller;
    private readonly int _line;
    private readonly bool _activeLow;
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>Opens <paramref name="line"/> as an output, driven inactive from the first moment.</summary>
    /// <param name="driver">The chip's driver; owned by the output once the arguments are checked, and disposed if the line cannot be opened.</param>
    /// <param name="line">Line offset on the chip.</param>
    /// <param name="activeLow">Whether active means electrically low.</param>
    /// <param name="name">Name for logs and health.</param>
    /// <exception cref="DigitalOutputException">The line cannot be opened as an output.</exception>
    public GpioDigitalOutput(GpioDriver driver, int line, bool activeLow, string name)
    {
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentOutOfRangeException.ThrowIfNegative(line);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _line = line;
        _activeLow = activeLow;
        Name = name;
        _controller = new GpioController(driver);
        try
        {
            _controller.OpenPin(line, PinMode.Output, GpioLevels.ToPinValue(active: false, activeLow));
        }
        catch (Exception ex) when (GpioLevels.IsDriverFailure(ex))
        {
            _controller.Dispose();
            throw new DigitalOutputException($"output {name}: GPIO line {line} cannot be opened as an output: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public void Write(bool active)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                _controller.Write(_line, GpioLevels.ToPinValue(active, _activeLow));
            }
            catch (Exception ex) when (GpioLevels.IsDriverFailure(ex))
            {
                throw new DigitalOutputException($"output {Name}: writing GPIO line {_line} failed: {ex.Message}", ex);
            }
        }
    }

    /// <summary>Drives the line inactive, releases it and disposes the controller and its driver.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                // A released line keeps its last level on most chips: leave it inactive, never stuck rejecting.
                _controller.Write(_line, GpioLevels.ToPinValue(active: false, _activeLow));
                _controller.ClosePin(_line);
            }
            finally
            {
                _controller.Dispose();
            }
        }
    }
}
