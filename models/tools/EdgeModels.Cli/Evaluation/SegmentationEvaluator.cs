using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeModels.Cli.Evaluation;

/// <summary>
/// Runs a labelled image set through the runtime's own pieces, in the order the host's offline <c>inspect</c> uses
/// them: <see cref="LabelledImageReader"/> decodes, <see cref="FrameInspector"/> tiles, runs the leased session and
/// decides defects, verdict and class map, as the host's <c>inspect</c> does; then scores
/// the class map and verdict against the truth mask.
/// </summary>
/// <remarks>Single-threaded; the caller owns every injected object. Latency is timed with the injected clock.</remarks>
internal sealed class SegmentationEvaluator(
    IModelProvider models,
    FrameInspector inspector,
    FramePool frames,
    TimeProvider time)
{
    /// <summary>Evaluates <paramref name="set"/>; <paramref name="progress"/> is told (done, total) after each image.</summary>
    /// <exception cref="EvaluationInputException">An image or mask is unreadable, their sizes differ, or a mask holds a
    /// value that is not a class index; the message names the file.</exception>
    /// <exception cref="InvalidOperationException">No model is serving.</exception>
    public EvaluationReport Evaluate(IReadOnlyList<LabelledImage> set, Action<int, int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        using DefectInstanceMatcher matcher = new();
        var result = new InspectionResult();
        InferenceBuffers? buffers = null;
        byte[] classMap = [];
        EvaluationTally? tally = null;
        ModelIdentity? identity = null;
        string[] classNames = [];
        try
        {
            for (int i = 0; i < set.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                LabelledImage item = set[i];
                using ModelLease lease = models.Acquire();
                IInferenceSession session = lease.Session;
                ModelManifest manifest = session.Manifest;
                if (tally is null)
                {
                    tally = new EvaluationTally(manifest.ClassCount);
                    identity = session.Identity;
                    classNames = [.. manifest.Classes.Select(c => c.Name)];
                }

                (Frame image, Frame mask) = LabelledImageReader.Read(item, frames, manifest.ClassCount);
                using Frame imageFrame = image;
                using Frame maskFrame = mask;
                ReadOnlySpan<byte> truth = mask.Pixels;
                int pixels = image.Width * image.Height;
                if (classMap.Length < pixels)
                {
                    classMap = new byte[pixels];
                }

                Span<byte> predicted = classMap.AsSpan(0, pixels);
                long started = time.GetTimestamp();
                inspector.Inspect(session, image, ref buffers, result, predicted);
                double latencyMs = time.GetElapsedTime(started).TotalMilliseconds;

                InstanceCounts instances = matcher.Match(truth, predicted, image.Width, image.Height, manifest.ClassCount, result.Defects);
                tally.Add(Path.GetFileName(item.Image), truth, predicted, result.Verdict, instances, latencyMs);
                progress?.Invoke(i + 1, set.Count);
            }
        }
        finally
        {
            buffers?.Dispose();
        }

        if (tally is null || identity is null)
        {
            throw new ArgumentException("the evaluation set is empty", nameof(set));
        }

        return tally.ToReport(identity, classNames);
    }
}
