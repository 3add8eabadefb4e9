using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Inference.Golden;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Providers;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>An <see cref="OnnxModelProvider"/> over a temporary state folder, with a recording logger and fake time.</summary>
internal sealed class ProviderHarness : IDisposable
{
    public ProviderHarness(ModelOptions? model = null, Action<InferenceOptions>? configure = null, IAcceleratorProbe? probe = null, GoldenSampleCheck? golden = null)
    {
        Options = new InferenceOptions { IntraOpThreads = 1, MaxBatch = 4 };
        configure?.Invoke(Options);
        Provider = new OnnxModelProvider(
            Microsoft.Extensions.Options.Options.Create(model ?? new ModelOptions { Package = Directory.Combine("unused") }),
            Microsoft.Extensions.Options.Options.Create(Options),
            Microsoft.Extensions.Options.Options.Create(new PipelineOptions { StateDirectory = Directory.Combine("state") }),
            probe ?? new NativeAcceleratorProbe(),
            Time,
            Logger,
            golden);
    }

    public TempDirectory Directory { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));

    public ListLogger<OnnxModelProvider> Logger { get; } = new();

    public InferenceOptions Options { get; }

    public OnnxModelProvider Provider { get; }

    /// <summary>Writes a package for <paramref name="onnxPath"/> under the temp folder.</summary>
    public string Package(string name, string onnxPath, ManifestFields? fields = null) =>
        TestPackage.Write(Directory.Combine(name), onnxPath, fields);

    public async Task<ModelLoadOutcome> LoadAsync(string package)
    {
        ModelLoadOutcome outcome = await Provider.SwapAsync(package, CancellationToken.None);
        return outcome;
    }

    public void Dispose()
    {
        Provider.Dispose();
        Directory.Dispose();
    }
}
