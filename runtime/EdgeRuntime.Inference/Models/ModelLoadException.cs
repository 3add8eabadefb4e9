namespace EdgeRuntime.Inference.Models;

/// <summary>Where loading a model stopped.</summary>
public enum ModelLoadStage
{
    /// <summary>Opening and verifying the package (manifest, hash, signature).</summary>
    Package,

    /// <summary>Reading the ONNX graph and checking it against the manifest.</summary>
    Graph,

    /// <summary>Creating the session: no configured execution provider could run the model.</summary>
    Providers,

    /// <summary>The warm-up inference.</summary>
    Warmup,

    /// <summary>The package's golden samples: an image did not get its expected verdict.</summary>
    GoldenSamples,
}

/// <summary>
/// A model that cannot be served, with every problem found. Thrown inside the loader and turned into a
/// <see cref="ModelLoadOutcome"/> at the <see cref="OnnxModelProvider"/> boundary.
/// </summary>
internal sealed class ModelLoadException : Exception
{
    public ModelLoadException(ModelLoadStage stage, IReadOnlyList<string> problems, Exception? inner = null)
        : base(string.Join("; ", problems), inner)
    {
        Stage = stage;
        Problems = problems;
    }

    public ModelLoadStage Stage { get; }

    public IReadOnlyList<string> Problems { get; }
}
