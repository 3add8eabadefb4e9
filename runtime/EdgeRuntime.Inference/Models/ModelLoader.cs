using EdgeRuntime.Inference.Providers;
using EdgeRuntime.Inference.Sessions;
using EdgeRuntime.ModelPackages;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Inference.Models;

/// <summary>
/// Turns verified model bytes into a warmed-up session: graph check against the manifest, provider plan, provider
/// chain, warm-up. Blocking (a TensorRT engine build takes minutes); callers run it off the request path. Thread-safe.
/// </summary>
internal sealed class ModelLoader(InferenceOptions options, string stateDirectory, IAcceleratorProbe probe, ProviderChain chain)
{
    /// <summary>Creates the session on the best provider that can run it. The caller owns the result.</summary>
    /// <exception cref="ModelLoadException">The graph disagrees with the manifest, or no provider can run it.</exception>
    public OnnxInferenceSession CreateSession(ModelPackage package, byte[] model, Action<string>? progress)
    {
        ArgumentNullException.ThrowIfNull(package);
        ModelGraph graph = ModelGraph.Read(model, package.Manifest.Model.File);
        IReadOnlyList<string> problems = graph.Check(package.Manifest, out int? graphBatch);
        if (problems.Count > 0)
        {
            throw new ModelLoadException(ModelLoadStage.Graph, problems);
        }

        BatchProfile batch = BatchProfile.For(graphBatch, options.MaxBatch);
        AcceleratorFacts facts = probe.Probe(options.Cuda.DeviceId);
        ProviderPlan plan = ProviderPlanner.Create(options, package.Manifest, batch, facts, stateDirectory);
        string label = $"{package.Manifest.Id} {package.Manifest.Version}";
        InferenceSession session;
        ProviderSelection selection;
        try
        {
            (session, selection) = chain.CreateSession(model, plan, label, progress);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException(ModelLoadStage.Providers, [$"{package.Manifest.Model.File} cannot run even on the CPU provider: {ex.Message}"], ex);
        }

        return new OnnxInferenceSession(session, package.Manifest, selection, batch) { Package = package };
    }

    /// <summary>
    /// Runs <see cref="InferenceOptions.WarmupRuns"/> full-batch inferences on an all-zero input (the normalised mean colour) so lazy initialisation
    /// (arenas, kernels, an engine's first context) happens before the first frame, and checks that the output is finite.
    /// </summary>
    /// <exception cref="ModelLoadException">The run failed or produced NaN or infinity.</exception>
    public void Warmup(OnnxInferenceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        using Core.Processing.InferenceBuffers buffers = session.CreateBuffers(session.Batch.MaxChunk);
        try
        {
            for (int run = 0; run < options.WarmupRuns; run++)
            {
                session.Run(buffers, buffers.BatchCapacity);
            }
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelLoadException(ModelLoadStage.Warmup, [$"the warm-up inference on {session.Providers.Active.DisplayName()} failed: {ex.Message}"], ex);
        }

        int bad = 0;
        foreach (float value in buffers.OutputData)
        {
            bad += float.IsFinite(value) ? 0 : 1;
        }

        if (bad > 0)
        {
            throw new ModelLoadException(ModelLoadStage.Warmup,
                [$"the warm-up inference on {session.Providers.Active.DisplayName()} produced {bad} NaN or infinite values of {buffers.OutputData.Length}"]);
        }
    }
}
