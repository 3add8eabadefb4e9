using System.CommandLine;
using System.Globalization;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Inference;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Providers;
using EdgeRuntime.ModelPackages;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeModels.Cli.Evaluation;

/// <summary>How eval and bench load a model: the runtime's own settings, filled from the command line.</summary>
/// <param name="PackagePath">A package folder, or its manifest.json.</param>
/// <param name="Providers">Execution providers in order of preference (<c>tensorrt</c>, <c>cuda</c>, <c>cpu</c>).</param>
/// <param name="IntraOpThreads">Threads per inference; 0 lets ONNX Runtime use one per physical core.</param>
/// <param name="MaxBatch">Most tiles per Run of a dynamic-batch model (Inference:MaxBatch).</param>
/// <param name="GraphOptimization">ONNX Runtime graph optimisation level (the runtime's default is all).</param>
internal sealed record RuntimeModelSettings(
    string PackagePath, IReadOnlyList<string> Providers, int IntraOpThreads, int MaxBatch, GraphOptimization GraphOptimization = GraphOptimization.All);

/// <summary>
/// Loads a model package exactly as edge-runtime does: through <see cref="OnnxModelProvider"/>, which verifies the
/// package (manifest, SHA-256), checks the graph against the manifest, plans the providers, creates the session and
/// warms it up. The settings are mapped onto <see cref="InferenceOptions"/> here and nowhere else.
/// </summary>
internal static class RuntimeModel
{
    /// <summary>The options eval and bench share; read them back with <see cref="Read"/>.</summary>
    internal sealed class CommandOptions
    {
        public Option<string> Model { get; } = new("--model")
        {
            Description = "The model package: its folder, or the manifest.json in it.",
            Required = true,
        };

        public Option<string> Providers { get; } = new("--providers")
        {
            Description = "Execution providers in order of preference, comma-separated: tensorrt, cuda, cpu (cpu last). " +
                          "The default measures the CPU provider; tensorrt,cuda,cpu is what edge-runtime tries on a device.",
            DefaultValueFactory = _ => "cpu",
        };

        public Option<int> Threads { get; } = new("--threads")
        {
            Description = "Threads one inference may use (ONNX Runtime intra-op threads); 0 = one per physical core.",
            DefaultValueFactory = _ => 0,
        };

        public Option<GraphOptimization> GraphOptimizationLevel { get; } = new("--graph-optimization")
        {
            Description = "ONNX Runtime graph optimisation: Disabled, Basic, Extended or All (the runtime's default). On x86 " +
                          "only All converts convolutions to the blocked NCHWc layout, and only those whose channel counts " +
                          "are multiples of the block (8 on AVX2, 16 on AVX-512).",
            DefaultValueFactory = _ => GraphOptimization.All,
        };

        public void AddTo(Command command)
        {
            command.Options.Add(Model);
            command.Options.Add(Providers);
            command.Options.Add(Threads);
            command.Options.Add(GraphOptimizationLevel);
        }

        /// <summary>The settings, or null with every problem (naming the option and value) added to <paramref name="problems"/>.</summary>
        public RuntimeModelSettings? Read(ParseResult parse, int maxBatch, ICollection<string> problems)
        {
            string model = parse.GetRequiredValue(Model);
            string providerList = parse.GetValue(Providers) ?? "cpu";
            int threads = parse.GetValue(Threads);
            string[] providers = providerList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            int before = problems.Count;
            if (providers.Length == 0)
            {
                problems.Add($"--providers \"{providerList}\" names no provider; use tensorrt, cuda and/or cpu");
            }

            foreach (string provider in providers)
            {
                if (!ExecutionProviderNames.TryParse(provider, out _))
                {
                    problems.Add($"--providers: \"{provider}\" is not a provider; use {string.Join(", ", ExecutionProviderNames.ConfigurationNames)}");
                }
            }

            if (threads is < 0 or > 256)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"--threads {threads} is out of range; use 0 (one per physical core) to 256"));
            }

            return problems.Count > before ? null : new RuntimeModelSettings(model, providers, threads, maxBatch, parse.GetValue(GraphOptimizationLevel));
        }
    }

    /// <summary>
    /// Loads and warms the package. Returns the provider serving it (the caller disposes it), or null after printing
    /// why the package was refused to <paramref name="error"/>.
    /// </summary>
    public static async Task<OnnxModelProvider?> LoadAsync(RuntimeModelSettings settings, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(error);
        string? packageDirectory = PackageDirectory(settings.PackagePath, out string? problem);
        if (packageDirectory is null)
        {
            await error.WriteLineAsync(problem).ConfigureAwait(false);
            return null;
        }

        var inference = new InferenceOptions
        {
            Providers = [.. settings.Providers],
            IntraOpThreads = settings.IntraOpThreads,
            GraphOptimizationLevel = settings.GraphOptimization,
            MaxBatch = settings.MaxBatch,

            // eval and bench warm up on their own terms; the loader's one run only proves the output is finite.
            WarmupRuns = 1,
        };
        ValidateOptionsResult validation = new InferenceOptionsValidator().Validate(null, inference);
        if (validation.Failed)
        {
            foreach (string failure in validation.Failures ?? [])
            {
                await error.WriteLineAsync(failure).ConfigureAwait(false);
            }

            return null;
        }

        // The state directory holds TensorRT engines only; a per-user temporary folder keeps built engines between runs.
        var pipeline = new PipelineOptions { StateDirectory = Path.Combine(Path.GetTempPath(), "edge-models", "state") };
        var provider = new OnnxModelProvider(
            Options.Create(new ModelOptions { Package = packageDirectory }),
            Options.Create(inference),
            Options.Create(pipeline),
            new NativeAcceleratorProbe(),
            TimeProvider.System,
            NullLogger<OnnxModelProvider>.Instance);
        bool loaded = false;
        try
        {
            ModelLoadOutcome outcome = await provider.LoadConfiguredAsync(cancellationToken).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                await error.WriteLineAsync($"{packageDirectory}: the model was refused at {outcome.FailedStage}:").ConfigureAwait(false);
                foreach (string refusal in outcome.Problems)
                {
                    await error.WriteLineAsync("  " + refusal).ConfigureAwait(false);
                }

                return null;
            }

            loaded = true;
            return provider;
        }
        finally
        {
            if (!loaded)
            {
                provider.Dispose();
            }
        }
    }

    /// <summary>How reports name a package: its folder's name (defect-unet-pruned-int8), which tells variants apart.</summary>
    public static string Label(string packagePath) =>
        Path.GetFileName(PackageDirectory(packagePath, out _) ?? Path.GetFullPath(packagePath).TrimEnd(Path.DirectorySeparatorChar));

    /// <summary>The package folder of a folder or manifest path; null with <paramref name="problem"/> set when there is none.</summary>
    internal static string? PackageDirectory(string path, out string? problem)
    {
        problem = null;
        if (Directory.Exists(path))
        {
            return Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        }

        if (File.Exists(path))
        {
            if (string.Equals(Path.GetFileName(path), PackagePaths.ManifestFileName, StringComparison.Ordinal))
            {
                return Path.GetDirectoryName(Path.GetFullPath(path))!;
            }

            // The runtime loads packages, never a loose manifest; measuring anything else would not be what the line runs.
            problem = $"--model {path} is neither a package folder nor its {PackagePaths.ManifestFileName}";
            return null;
        }

        problem = $"--model {path} does not exist";
        return null;
    }
}
