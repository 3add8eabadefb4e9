namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>
/// Tests that measure the process (resident memory, time per run) run alone, after the parallel ones, so other
/// tests' work does not show up in their figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "measurements";
}
