using EdgeRuntime.Inference.Providers;

namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>
/// Holds a load inside session creation (where a TensorRT build would spend its minutes) until the test opens the
/// gate, so the state of a load in progress can be observed without sleeps.
/// </summary>
internal sealed class GatedProbe(AcceleratorFacts facts) : IAcceleratorProbe, IDisposable
{
    private readonly ManualResetEventSlim _gate = new();

    /// <summary>Set when a load has reached the probe.</summary>
    public ManualResetEventSlim Entered { get; } = new();

    public AcceleratorFacts Probe(int deviceId)
    {
        Entered.Set();
        if (!_gate.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("the test never opened the gate");
        }

        return facts;
    }

    public void Open() => _gate.Set();

    /// <summary>Makes the next load wait again.</summary>
    public void Close()
    {
        Entered.Reset();
        _gate.Reset();
    }

    public void Dispose()
    {
        _gate.Dispose();
        Entered.Dispose();
    }
}
