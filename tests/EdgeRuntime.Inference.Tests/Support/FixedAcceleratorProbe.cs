using EdgeRuntime.Inference.Providers;

namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>Reports the environment a test describes instead of probing the machine.</summary>
internal sealed class FixedAcceleratorProbe(AcceleratorFacts facts) : IAcceleratorProbe
{
    public int Calls { get; private set; }

    public AcceleratorFacts Probe(int deviceId)
    {
        Calls++;
        return facts;
    }
}
