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
        ArrayBufferWriter<byte> buffer = new(manifestUtf8.Length + 64);
        using (Utf8JsonWriter writer = new(buffer, s_writerOptions))
        {
            model.Root.WriteTo(writer);
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
