using EdgeModels.Cli.Evaluation;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Postprocessing;
using EdgeRuntime.Vision.Preprocessing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EdgeModels.Cli.Tuning;

/// <summary>
/// Runs a labelled set through the runtime's own preprocessing and session once per image and measures, for every
/// candidate threshold set, the components the runtime's postprocessor finds (<see cref="ComponentAreaRecorder"/>),
/// then searches the verdict rule (<see cref="RuleSweep"/>). What a package's thresholds are tuned on is thus exactly
/// what the line runs: the variant's own numerics (FP16, INT8), tiling and stitching, and the runtime's class decision.
/// </summary>
/// <remarks>Single-threaded; the caller owns the model provider and the frame pool.</remarks>
internal sealed class RuleTuner(IModelProvider models, FramePool frames)
{
    /// <summary>Measures <paramref name="set"/> into <paramref name="sweep"/>, built for the serving model's manifest.</summary>
    /// <param name="set">The labelled images.</param>
    /// <param name="sweep">Receives every image's measured components; search it afterwards.</param>
    /// <param name="progress">Told (done, total) after each image; may be null.</param>
    /// <param name="cancellationToken">Stops between images.</param>
    /// <returns>The model that was measured.</returns>
    /// <exception cref="EvaluationInputException">An image or mask is unusable; the message names the file.</exception>
    public ModelIdentity Measure(IReadOnlyList<LabelledImage> set, RuleSweep sweep, Action<int, int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(sweep);
        using ModelLease lease = models.Acquire();
        IInferenceSession session = lease.Session;
        ModelManifest manifest = session.Manifest;
        var postprocessor = new SegmentationPostprocessor(Options.Create(new InspectionOptions()), NullLogger<SegmentationPostprocessor>.Instance);
        var recorder = new ComponentAreaRecorder(manifest, sweep.ThresholdSets, postprocessor);
        var inspector = new FrameInspector(new ManifestPreprocessor(), recorder);
        var result = new InspectionResult();
        InferenceBuffers? buffers = null;
        try
        {
            for (int i = 0; i < set.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                LabelledImage item = set[i];
                (Frame image, Frame mask) = LabelledImageReader.Read(item, frames, manifest.ClassCount);
                using Frame imageFrame = image;
                using Frame maskFrame = mask;
                inspector.Inspect(session, image, ref buffers, result);
                sweep.Record(Path.GetFileName(item.Image), mask.Pixels.ContainsAnyExcept((byte)0), recorder);
                progress?.Invoke(i + 1, set.Count);
            }
        }
        finally
        {
            buffers?.Dispose();
        }

        return session.Identity;
    }
}
