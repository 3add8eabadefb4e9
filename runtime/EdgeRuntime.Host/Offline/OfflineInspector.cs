using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Host.Commands;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Vision.Imaging;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRuntime.Host.Offline;

/// <summary>What <c>inspect</c> was asked to do.</summary>
internal sealed record OfflineInspectionRequest(string? ConfigPath, string? Model, string? MasksDirectory, string? OverlayDirectory, IReadOnlyList<string> Inputs);

/// <summary>
/// Runs images through the service's own preprocessor, model session and postprocessor (the same objects
/// the pipeline uses), so an offline answer is the answer the line would give.
/// </summary>
internal static class OfflineInspector
{
    public static async Task<int> RunAsync(IServiceProvider services, OfflineInspectionRequest request, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        List<string> images = ExpandInputs(request.Inputs, errors, out bool missing);
        OnnxModelProvider models = services.GetRequiredService<OnnxModelProvider>();
        ModelLoadOutcome outcome = await models.LoadConfiguredAsync(cancellationToken).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            await errors.WriteLineAsync("edge-runtime: the model could not be loaded: " + outcome).ConfigureAwait(false);
            return ExitCodes.BadConfiguration;
        }

        foreach (string directory in new[] { request.MasksDirectory, request.OverlayDirectory }.OfType<string>())
        {
            Directory.CreateDirectory(directory);
        }

        var inspector = new FrameInspector(services.GetRequiredService<IFramePreprocessor>(), services.GetRequiredService<ISegmentationPostprocessor>());
        var classNames = new ClassNameCache();
        FramePool frames = services.GetRequiredService<FramePool>();
        var result = new InspectionResult();
        InferenceBuffers? buffers = null;
        int failures = missing ? 1 : 0;
        using Stream stdout = Console.OpenStandardOutput();
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (string path in images)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Frame frame;
                try
                {
                    frame = ImageFiles.Read(path, frames);
                }
                catch (FrameSourceException ex)
                {
                    await errors.WriteLineAsync("edge-runtime: " + ex.Message).ConfigureAwait(false);
                    failures++;
                    continue;
                }

                using (frame)
                using (ModelLease lease = models.Acquire())
                {
                    IInferenceSession session = lease.Session;
                    byte[] classMap = ArrayPool<byte>.Shared.Rent(frame.Width * frame.Height);
                    try
                    {
                        Span<byte> map = classMap.AsSpan(0, frame.Width * frame.Height);
                        long start = Stopwatch.GetTimestamp();
                        inspector.Inspect(session, frame, ref buffers, result, map);
                        result.ClassNames = classNames.Get(session);
                        double latency = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        WriteLine(stdout, path, result, latency);
                        string stem = Path.GetFileNameWithoutExtension(path);
                        if (request.MasksDirectory is { } masks)
                        {
                            ImageFiles.WriteClassMap(Path.Combine(masks, stem + ".png"), map, frame.Width, frame.Height);
                        }

                        if (request.OverlayDirectory is { } overlays)
                        {
                            ImageFiles.WriteOverlay(Path.Combine(overlays, stem + ".png"), frame, map, session.Manifest, result.Defects);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(classMap);
                    }
                }
            }
        }
        finally
        {
            buffers?.Dispose();
        }

        return failures == 0 ? ExitCodes.Ok : ExitCodes.BadInput;
    }

    private static void WriteLine(Stream stdout, string image, InspectionResult result, double latencyMs)
    {
        using (var json = new Utf8JsonWriter(stdout))
        {
            json.WriteStartObject();
            json.WriteString("image", image);
            json.WriteString("verdict", result.Verdict == Verdict.Pass ? "PASS" : "FAIL");
            json.WriteStartArray("defects");
            foreach (Defect defect in result.Defects)
            {
                json.WriteStartObject();
                json.WriteString("class", result.ClassName(defect.ClassIndex));
                json.WriteStartArray("bbox");
                json.WriteNumberValue(defect.Bounds.X);
                json.WriteNumberValue(defect.Bounds.Y);
                json.WriteNumberValue(defect.Bounds.Width);
                json.WriteNumberValue(defect.Bounds.Height);
                json.WriteEndArray();
                json.WriteNumber("area", defect.Area);
                json.WriteNumber("score", Math.Round(defect.MaxScore, 4));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("latencyMs", Math.Round(latencyMs, 2));
            json.WriteEndObject();
        }

        stdout.WriteByte((byte)'\n');
        stdout.Flush();
    }

    private static List<string> ExpandInputs(IReadOnlyList<string> inputs, TextWriter errors, out bool missing)
    {
        var images = new List<string>();
        missing = false;
        foreach (string input in inputs)
        {
            if (Directory.Exists(input))
            {
                images.AddRange(ImageFolder.List(input));
            }
            else if (File.Exists(input))
            {
                images.Add(input);
            }
            else
            {
                errors.WriteLine($"edge-runtime: {input} is neither an image file nor a folder");
                missing = true;
            }
        }

        return images;
    }
}
