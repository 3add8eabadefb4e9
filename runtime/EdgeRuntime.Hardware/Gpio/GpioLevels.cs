using System.Device.Gpio;

namespace EdgeRuntime.Hardware.Gpio;

/// <summary>Translation between logical (active/inactive) and electrical (high/low) terms; the one place polarity is applied.</summary>
internal static class GpioLevels
{
    public static PinValue ToPinValue(bool active, bool activeLow) => active != activeLow ? PinValue.High : PinValue.Low;

    /// <summary>The electrical edge that a logical edge appears as on the wire.</summary>
    public static PinEventTypes ToPinEvent(bool becomesActive, bool activeLow) =>
        becomesActive != activeLow ? PinEventTypes.Rising : PinEventTypes.Falling;

    /// <summary>Whether an exception from System.Device.Gpio is a hardware or driver failure (rather than a bug).</summary>
    public static bool IsDriverFailure(Exception exception) =>
        exception is IOException or InvalidOperationException or UnauthorizedAccessException or ArgumentException or NotSupportedException;
}
