using System.Device.Gpio;
using EdgeRuntime.Hardware.Outputs;
using EdgeRuntime.Hardware.Tests.Fakes;

namespace EdgeRuntime.Hardware.Tests.Outputs;

public sealed class GpioDigitalOutputTests
{
    private const int Line = 22;

    [Theory]
    [InlineData(false, 0, 1)]
    [InlineData(true, 1, 0)]
    public void LineOpensInactiveAndFollowsThePolarity(bool activeLow, int inactiveLevel, int activeLevel)
    {
        var driver = new FakeGpioDriver();
        using var output = new GpioDigitalOutput(driver, Line, activeLow, "reject");

        Assert.Equal(PinMode.Output, driver.ModeOf(Line));
        Assert.Equal((PinValue)inactiveLevel, driver.ValueOf(Line));
        output.Write(true);
        Assert.Equal((PinValue)activeLevel, driver.ValueOf(Line));
        output.Write(false);
        Assert.Equal((PinValue)inactiveLevel, driver.ValueOf(Line));
    }

    [Fact]
    public void DisposingDrivesTheLineInactiveThenReleasesItAndTheDriver()
    {
        var driver = new FakeGpioDriver();
        var output = new GpioDigitalOutput(driver, Line, activeLow: true, "reject");
        output.Write(true);

        output.Dispose();

        Assert.Equal((Line, PinValue.High), driver.Writes[^1]);
        Assert.False(driver.IsOpen(Line));
        Assert.True(driver.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => output.Write(true));
    }

    [Fact]
    public void DriverFailureBecomesDigitalOutputExceptionNamingTheLine()
    {
        var driver = new FakeGpioDriver();
        using var output = new GpioDigitalOutput(driver, Line, activeLow: false, "reject");
        driver.FailWritesWith = new IOException("No such device");

        var error = Assert.Throws<DigitalOutputException>(() => output.Write(true));

        Assert.Contains("GPIO line 22", error.Message, StringComparison.Ordinal);
        Assert.Contains("No such device", error.Message, StringComparison.Ordinal);
        driver.FailWritesWith = null;
    }
}
