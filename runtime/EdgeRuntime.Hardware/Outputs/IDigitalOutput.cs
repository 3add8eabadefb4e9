namespace EdgeRuntime.Hardware.Outputs;

/// <summary>
/// One digital output line in logical terms (active / inactive; wiring polarity is the implementation's business):
/// the reject gate, a stack light. Implementations must tolerate calls from different threads but are never called
/// concurrently by the runtime (its users serialise their writes).
/// </summary>
public interface IDigitalOutput
{
    /// <summary>Short name used in logs and health (e.g. <c>gpiochip0:17</c>).</summary>
    string Name { get; }

    /// <summary>Drives the line active or inactive; returns once the hardware has been told (microseconds for GPIO).</summary>
    /// <exception cref="DigitalOutputException">The hardware refused the write.</exception>
    void Write(bool active);
}

/// <summary>A digital output could not be opened or driven; the message names the line.</summary>
public sealed class DigitalOutputException : Exception
{
    public DigitalOutputException(string message)
        : base(message)
    {
    }

    public DigitalOutputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
