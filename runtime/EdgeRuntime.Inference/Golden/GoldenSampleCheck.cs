using System.Globalization;
using System.Text;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.ModelPackages;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Inference.Golden;

/// <summary>
/// Runs a package's golden samples through the production <see cref="FrameInspector"/> (the same preprocessing, model
/// session and postprocessing the pipeline uses) and says which images did not get their expected verdict and classes.
/// Each image is read and checked against its SHA-256 again on every run, so an image changed on disk is reported,
/// never judged. Thread-safe: every run brings its own buffers, frames and result.
/// </summary>
public sealed class GoldenSampleCheck(FrameInspector inspector, IImageDecoder decoder)
{
    /// <summary>
    /// Judges every golden sample of <paramref name="package"/> on <paramref name="session"/>, one image at a time on the
    /// calling thread (callers run it off the request path and hold a lease on the session for the duration).
    /// </summary>
    /// <param name="package">The verified package the session was created from.</param>
    /// <param name="session">The session to judge with.</param>
    /// <param name="progress">Told (index from 1, count, image) before each image; may be null.</param>
    /// <param name="cancellationToken">Checked between images.</param>
    /// <returns>One problem per disagreeing or unreadable image, naming the image, what was expected and what came out.</returns>
    public async Task<IReadOnlyList<string>> RunAsync(ModelPackage package, IInferenceSession session, Action<int, int, string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(session);
        IReadOnlyList<GoldenSampleSpec> samples = package.Manifest.GoldenSamples ?? [];
        var problems = new List<string>();
        using var frames = new FramePool(maxRetained: 1);
        var result = new InspectionResult();
        InferenceBuffers? buffers = null;
        try
        {
            for (int i = 0; i < samples.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                GoldenSampleSpec sample = samples[i];
                progress?.Invoke(i + 1, samples.Count, sample.Image);
                byte[] encoded;
                try
                {
                    encoded = await package.ReadVerifiedGoldenSampleAsync(sample, cancellationToken).ConfigureAwait(false);
                }
                catch (ModelPackageException ex)
                {
                    problems.AddRange(ex.Problems.Select(p => p.Message));
                    continue;
                }
                catch (IOException ex)
                {
                    problems.Add($"{sample.Image} cannot be read: {ex.Message}");
                    continue;
                }

                Frame frame;
                try
                {
                    frame = decoder.Decode(encoded, sample.Image, frames);
                }
                catch (FrameSourceException ex)
                {
                    problems.Add(ex.Message);
                    continue;
                }

                using (frame)
                {
                    try
                    {
                        inspector.Inspect(session, frame, ref buffers, result);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
                    {
                        // A model that cannot even judge its golden image is the alarm this check exists for: report it as a disagreement.
                        problems.Add($"{sample.Image}: the inspection failed: {ex.GetType().Name}: {ex.Message}");
                        continue;
                    }
                }

                if (Disagreement(sample, result, session.Manifest) is { } problem)
                {
                    problems.Add(problem);
                }
            }
        }
        finally
        {
            buffers?.Dispose();
        }

        return problems;
    }

    /// <summary>Null when <paramref name="result"/> is what <paramref name="sample"/> expects; otherwise the line that says how it differs.</summary>
    internal static string? Disagreement(GoldenSampleSpec sample, InspectionResult result, ModelManifest manifest)
    {
        bool verdictAgrees = result.Verdict == (sample.Verdict == GoldenVerdict.Fail ? Verdict.Fail : Verdict.Pass);
        var found = new SortedSet<int>();
        foreach (Defect defect in result.Defects)
        {
            found.Add(defect.ClassIndex);
        }

        bool classesAgree = sample.Classes is not { } expected
            || (expected.Count == found.Count && expected.All(name => found.Any(index => ClassName(manifest, index) == name)));
        if (verdictAgrees && classesAgree)
        {
            return null;
        }

        var line = new StringBuilder();
        line.Append(sample.Image).Append(": expected ").Append(sample.Verdict == GoldenVerdict.Fail ? "FAIL" : "PASS");
        if (sample.Classes is { Count: > 0 } classes)
        {
            line.Append(" [").AppendJoin(", ", classes).Append(']');
        }

        line.Append(", got ").Append(result.Verdict == Verdict.Fail ? "FAIL" : "PASS");
        if (found.Count > 0)
        {
            line.Append(" [").AppendJoin(", ", found.Select(index => ClassName(manifest, index))).Append(']');
        }

        line.Append(CultureInfo.InvariantCulture, $" ({result.Defects.Count} defect{(result.Defects.Count == 1 ? string.Empty : "s")})");
        return line.ToString();
    }

    private static string ClassName(ModelManifest manifest, int index) =>
        (uint)index < (uint)manifest.ClassCount ? manifest.Classes[index].Name : "class" + index.ToString(CultureInfo.InvariantCulture);
}
