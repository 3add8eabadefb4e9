using System.Device.Gpio;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Outputs;
using EdgeRuntime.Hardware.Sources;
using EdgeRuntime.Hardware.Tests.Fakes;
using EdgeRuntime.Hardware.Triggers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRuntime.Hardware.Tests;

public sealed class HardwareFactoryTests
{
    private readonly FakeTimeProvider _time = new();

    [Theory]
    [InlineData(TriggerKind.Timer, typeof(TimerTrigger))]
    [InlineData(TriggerKind.FreeRun, typeof(FreeRunTrigger))]
    [InlineData(TriggerKind.Software, typeof(SoftwareTrigger))]
    [InlineData(TriggerKind.Gpio, typeof(GpioTrigger))]
    public void EachTriggerKindGetsItsImplementation(TriggerKind kind, Type expected)
    {
        var options = new TriggerOptions { Kind = kind, Gpio = new GpioTriggerOptions { Chip = 1, Line = 4 } };
        int? openedChip = null;

        ITriggerSource trigger = HardwareFactory.CreateTrigger(options, new SoftwareTrigger(_time), _time, NullLoggerFactory.Instance, chip =>
        {
            openedChip = chip;
            return new FakeGpioDriver();
        });

        Assert.IsType(expected, trigger);
        Assert.Equal(kind == TriggerKind.Gpio ? 1 : null, openedChip);
        (trigger as IDisposable)?.Dispose();
    }

    [Fact]
    public void CameraSourceIsRefusedAndSyntheticIsBuilt()
    {
        using var pool = new FramePool();

        var camera = Assert.Throws<InvalidOperationException>(() =>
            HardwareFactory.CreateSource(new SourceOptions { Kind = SourceKind.Camera }, pool, _time, NullLoggerFactory.Instance));
        IFrameSource synthetic = HardwareFactory.CreateSource(new SourceOptions { Kind = SourceKind.Synthetic }, pool, _time, NullLoggerFactory.Instance);

        Assert.Contains("not available in this build", camera.Message, StringComparison.Ordinal);
        Assert.IsType<SyntheticFrameSource>(synthetic);
        ((IDisposable)synthetic).Dispose();
    }

    [Fact]
    public void GpioRejectOutputOpensTheConfiguredLineOnTheConfiguredChip()
    {
        var driver = new FakeGpioDriver();
        var options = new RejectOptions { Output = new DigitalOutputOptions { Kind = DigitalOutputKind.Gpio, Chip = 3, Line = 9, ActiveLow = true } };

        IDigitalOutput output = HardwareFactory.CreateRejectOutput(options, _time, chip => chip == 3 ? driver : throw new InvalidOperationException("wrong chip"));

        Assert.Equal("gpiochip3:9", output.Name);
        Assert.Equal(PinValue.High, driver.ValueOf(9));
        Assert.IsType<InMemoryDigitalOutput>(HardwareFactory.CreateRejectOutput(new RejectOptions(), _time));
        ((IDisposable)output).Dispose();
    }
}
