using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Inference;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Providers;
using EdgeRuntime.Inference.Sessions;
using EdgeRuntime.ModelPackages.Manifest;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Options = Microsoft.Extensions.Options.Options;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// One model loaded twice: by the runtime (<see cref="OnnxModelProvider"/>, as the service loads it) and as a plain
/// ONNX Runtime <see cref="InferenceSession"/> made from exactly the same <see cref="SessionOptions"/>
/// (<see cref="ProviderChain.CreateSessionOptions"/> on the same plan, the same providers skipped), so the two differ
/// only in how they are driven. Owns both; dispose after every pipeline using <see cref="Provider"/> has stopped.
/// </summary>
internal sealed class ModelUnderTest : IDisposable
{
    private ModelUnderTest(ModelChoice choice, OnnxModelProvider provider, OnnxInferenceSession session, InferenceSession bare, InferenceOptions inferenceOptions)
    {
        Choice = choice;
        Provider = provider;
        Session = session;
        Bare = bare;
        InferenceOptions = inferenceOptions;
    }

    public ModelChoice Choice { get; }

    /// <summary>The runtime's provider, serving the model.</summary>
    public OnnxModelProvider Provider { get; }

    /// <summary>The runtime's session (leased through <see cref="Provider"/> by the pipeline).</summary>
    public OnnxInferenceSession Session { get; }

    /// <summary>The plain ONNX Runtime session.</summary>
    public InferenceSession Bare { get; }

    public InferenceOptions InferenceOptions { get; }

    public ModelManifest Manifest => Session.Manifest;

    /// <summary>Loads the package through the runtime, then the same bytes into a bare session.</summary>
    /// <exception cref="BenchmarkException">The runtime refused the package (the message lists why).</exception>
    public static async Task<ModelUnderTest> LoadAsync(ModelChoice choice, int intraOpThreads, string stateDirectory, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        // The service's defaults (provider chain tensorrt, cuda, cpu; MaxBatch 16; one warm-up run); only the thread count is set.
        var options = new InferenceOptions { IntraOpThreads = intraOpThreads };
        var pipeline = new PipelineOptions { StateDirectory = stateDirectory };
        var probe = new NativeAcceleratorProbe();
        var provider = new OnnxModelProvider(Options.Create(new ModelOptions { Package = choice.Directory }), Options.Create(options), Options.Create(pipeline),
            probe, TimeProvider.System, loggers.CreateLogger<OnnxModelProvider>());
        bool loaded = false;
        try
        {
            ModelLoadOutcome outcome = await provider.LoadConfiguredAsync(cancellationToken).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                throw new BenchmarkException($"the runtime refused {choice.Directory}: {outcome}");
            }

            OnnxInferenceSession session = provider.Active ?? throw new BenchmarkException("the provider reports success but serves no model");
            InferenceSession bare = CreateBare(choice, options, session, probe, Path.GetFullPath(stateDirectory));
            loaded = true;
            return new ModelUnderTest(choice, provider, session, bare, options);
        }
        finally
        {
            if (!loaded)
            {
                provider.Dispose();
            }
        }
    }

    /// <summary>Shape of a batch of <paramref name="items"/> model inputs, in the manifest's layout.</summary>
    public long[] InputShape(int items)
    {
        InputSpec input = Manifest.Input;
        return input.Layout == TensorLayout.Nhwc
            ? [items, input.Height, input.Width, input.Channels]
            : [items, input.Channels, input.Height, input.Width];
    }

    /// <summary>Shape of a batch of <paramref name="items"/> model outputs: [N, K, H, W].</summary>
    public long[] OutputShape(int items) => [items, Manifest.ClassCount, Manifest.Input.Height, Manifest.Input.Width];

    /// <summary>Floats in one input item.</summary>
    public int InputElements => Manifest.Input.Channels * Manifest.Input.Width * Manifest.Input.Height;

    /// <summary>Floats in one output item.</summary>
    public int OutputElements => Manifest.ClassCount * Manifest.Input.Width * Manifest.Input.Height;

    public void Dispose()
    {
        Bare.Dispose();
        Provider.Dispose();
    }

    private static InferenceSession CreateBare(ModelChoice choice, InferenceOptions options, OnnxInferenceSession session, IAcceleratorProbe probe, string stateDirectory)
    {
        ProviderPlan plan = ProviderPlanner.Create(options, session.Manifest, session.Batch, probe.Probe(options.Cuda.DeviceId), stateDirectory);
        var unusable = new HashSet<ExecutionProviderKind>();
        foreach (SkippedProvider skipped in session.Providers.Skipped)
        {
            unusable.Add(skipped.Provider);
        }

        using SessionOptions sessionOptions = ProviderChain.CreateSessionOptions(plan, unusable, [], []);
        byte[] model = File.ReadAllBytes(Path.Combine(choice.Directory, session.Manifest.Model.File));
        return new InferenceSession(model, sessionOptions);
    }
}
