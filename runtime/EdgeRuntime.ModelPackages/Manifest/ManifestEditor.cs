using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>
/// Edits manifest documents that may not be valid yet (a fresh manifest has no model hash), keeping every other
/// property, its order and its number spelling.
/// </summary>
public static class ManifestEditor
{
    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        Indented = true,

        // Written to a file, never embedded in HTML: keep '+', '<' and non-ASCII text readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The <c>model.file</c> value of a manifest document, or null when it has none that is a string.</summary>
    public static string? TryGetModelFile(ReadOnlySpan<byte> manifestUtf8) => TryGetModelString(manifestUtf8, "file");

    /// <summary>The <c>model.sha256</c> value of a manifest document, or null when it has none that is a string.</summary>
    public static string? TryGetModelSha256(ReadOnlySpan<byte> manifestUtf8) => TryGetModelString(manifestUtf8, "sha256");

    /// <summary>The document with <c>model.sha256</c> set to <paramref name="sha256"/>.</summary>
    /// <exception cref="FormatException">The document is not a JSON object with a <c>model</c> object.</exception>
    public static byte[] WithModelSha256(ReadOnlySpan<byte> manifestUtf8, string sha256)
    {
        ArgumentException.ThrowIfNullOrEmpty(sha256);
        if (TryParseModel(manifestUtf8) is not { } model)
        {
            throw new FormatException($"{PackagePaths.ManifestFileName} is not a JSON object with a \"model\" object");
        }

        model["sha256"] = sha256;
        return Write(model.Root, manifestUtf8.Length);
    }

    /// <summary>
    /// The document with <c>goldenSamples</c> replaced by <paramref name="samples"/> (removed when empty). The result is
    /// not validated here: open the package afterwards.
    /// </summary>
    /// <exception cref="FormatException">The document is not a JSON object.</exception>
    public static byte[] WithGoldenSamples(ReadOnlySpan<byte> manifestUtf8, IReadOnlyList<GoldenSampleSpec> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        JsonObject root = ParseRoot(manifestUtf8);
        root.Remove("goldenSamples");
        if (samples.Count > 0)
        {
            var array = new JsonArray();
            foreach (GoldenSampleSpec sample in samples)
            {
                var item = new JsonObject
                {
                    ["image"] = sample.Image,
                    ["sha256"] = sample.Sha256,
                    ["verdict"] = SchemaSpelling.Of(sample.Verdict, ManifestJsonContext.Default.GoldenVerdict),
                };
                if (sample.Classes is { } classes)
                {
                    item["classes"] = new JsonArray(classes.Select(name => (JsonNode?)JsonValue.Create(name)).ToArray());
                }

                array.Add(item);
            }

            root["goldenSamples"] = array;
        }

        return Write(root, manifestUtf8.Length);
    }

    /// <summary>
    /// The document with the <c>threshold</c> and <c>minArea</c> of each class in <paramref name="limits"/> set (the
    /// class found by its position in <c>classes</c>, which the schema makes equal to its index); every other
    /// property is kept. The result is not validated here: open the package afterwards.
    /// </summary>
    /// <exception cref="FormatException">The document is not a JSON object whose <c>classes</c> array holds an object
    /// at each index named.</exception>
    public static byte[] WithClassLimits(ReadOnlySpan<byte> manifestUtf8, IReadOnlyList<ClassLimits> limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        JsonObject root = ParseRoot(manifestUtf8);
        if (root["classes"] is not JsonArray classes)
        {
            throw new FormatException($"{PackagePaths.ManifestFileName} has no \"classes\" array");
        }

        foreach (ClassLimits limit in limits)
        {
            if (limit.Index < 0 || limit.Index >= classes.Count || classes[limit.Index] is not JsonObject item)
            {
                throw new FormatException($"{PackagePaths.ManifestFileName}: classes[{limit.Index}] is not an object");
            }

            item["threshold"] = limit.Threshold;
            item["minArea"] = limit.MinArea;
        }

        return Write(root, manifestUtf8.Length);
    }

    private static JsonObject ParseRoot(ReadOnlySpan<byte> manifestUtf8)
    {
        try
        {
            JsonObject root = JsonNode.Parse(manifestUtf8) as JsonObject
                ?? throw new FormatException($"{PackagePaths.ManifestFileName} is not a JSON object");

            // JsonObject materializes lazily: touching it here surfaces a duplicate key where it is caught.
            _ = root.Count;
            return root;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            throw new FormatException($"{PackagePaths.ManifestFileName} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static byte[] Write(JsonNode root, int sizeHint)
    {
        ArrayBufferWriter<byte> buffer = new(sizeHint + 64);
        using (Utf8JsonWriter writer = new(buffer, s_writerOptions))
        {
            root.WriteTo(writer);
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static string? TryGetModelString(ReadOnlySpan<byte> manifestUtf8, string property) =>
        TryParseModel(manifestUtf8)?[property] is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    private static JsonObject? TryParseModel(ReadOnlySpan<byte> manifestUtf8)
    {
        try
        {
            if (JsonNode.Parse(manifestUtf8) is not JsonObject root || root["model"] is not JsonObject model)
            {
                return null;
            }

            // JsonObject materializes lazily: touching the model's properties here surfaces a duplicate key where it is caught.
            _ = model.Count;
            return model;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            // ModelManifest.Parse reports malformed JSON with its position; here it only means "no model object".
            return null;
        }
    }
}
