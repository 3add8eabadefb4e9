using System.Text.Json;
using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Messaging.Payloads;

/// <summary>
/// Writes an inspection result as the <c>result</c> JSON payload (schema 1, documented in TOPICS.md). Allocation-free
/// apart from class names for indices the manifest does not name.
/// </summary>
public static class ResultPayload
{
    /// <summary>Schema version written in every payload as <c>schema</c>.</summary>
    public const int SchemaVersion = 1;

    private static readonly JsonEncodedText s_schema = JsonEncodedText.Encode("schema");
    private static readonly JsonEncodedText s_seq = JsonEncodedText.Encode("seq");
    private static readonly JsonEncodedText s_frameId = JsonEncodedText.Encode("frameId");
    private static readonly JsonEncodedText s_verdict = JsonEncodedText.Encode("verdict");
    private static readonly JsonEncodedText s_status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText s_reason = JsonEncodedText.Encode("reason");
    private static readonly JsonEncodedText s_triggerUtc = JsonEncodedText.Encode("triggerUtc");
    private static readonly JsonEncodedText s_trigger = JsonEncodedText.Encode("trigger");
    private static readonly JsonEncodedText s_source = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText s_correlation = JsonEncodedText.Encode("correlation");
    private static readonly JsonEncodedText s_image = JsonEncodedText.Encode("image");
    private static readonly JsonEncodedText s_width = JsonEncodedText.Encode("width");
    private static readonly JsonEncodedText s_height = JsonEncodedText.Encode("height");
    private static readonly JsonEncodedText s_defects = JsonEncodedText.Encode("defects");
    private static readonly JsonEncodedText s_class = JsonEncodedText.Encode("class");
    private static readonly JsonEncodedText s_classIndex = JsonEncodedText.Encode("classIndex");
    private static readonly JsonEncodedText s_bbox = JsonEncodedText.Encode("bbox");
    private static readonly JsonEncodedText s_area = JsonEncodedText.Encode("area");
    private static readonly JsonEncodedText s_centroid = JsonEncodedText.Encode("centroid");
    private static readonly JsonEncodedText s_maxScore = JsonEncodedText.Encode("maxScore");
    private static readonly JsonEncodedText s_meanScore = JsonEncodedText.Encode("meanScore");
    private static readonly JsonEncodedText s_latencyMs = JsonEncodedText.Encode("latencyMs");
    private static readonly JsonEncodedText s_total = JsonEncodedText.Encode("total");
    private static readonly JsonEncodedText s_model = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText s_id = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText s_version = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText s_precision = JsonEncodedText.Encode("precision");
    private static readonly JsonEncodedText s_provider = JsonEncodedText.Encode("provider");
    private static readonly JsonEncodedText s_pass = JsonEncodedText.Encode("PASS");
    private static readonly JsonEncodedText s_fail = JsonEncodedText.Encode("FAIL");
    private static readonly JsonEncodedText[] s_statuses =
    [
        JsonEncodedText.Encode("inspected"),
        JsonEncodedText.Encode("deadline-missed"),
        JsonEncodedText.Encode("dropped"),
        JsonEncodedText.Encode("error"),
    ];

    private static readonly JsonEncodedText[] s_stages =
    [
        JsonEncodedText.Encode("capture"),
        JsonEncodedText.Encode("preprocess"),
        JsonEncodedText.Encode("inference"),
        JsonEncodedText.Encode("postprocess"),
        JsonEncodedText.Encode("publish"),
    ];

    /// <summary>The wire name of a status.</summary>
    public static string StatusName(ResultStatus status) => s_statuses[(int)status].Value;

    /// <summary>The wire name of a verdict: <c>PASS</c> or <c>FAIL</c>.</summary>
    public static JsonEncodedText VerdictName(Verdict verdict) => verdict == Verdict.Pass ? s_pass : s_fail;

    /// <summary>Writes <paramref name="result"/> as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, InspectionResult result)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(result);
        writer.WriteStartObject();
        writer.WriteNumber(s_schema, SchemaVersion);
        writer.WriteNumber(s_seq, result.Sequence);
        writer.WriteString(s_frameId, result.FrameId);
        writer.WriteString(s_verdict, VerdictName(result.Verdict));
        writer.WriteString(s_status, s_statuses[(int)result.Status]);
        if (result.Reason is { } reason)
        {
            writer.WriteString(s_reason, reason);
        }
        else
        {
            writer.WriteNull(s_reason);
        }

        writer.WriteString(s_triggerUtc, result.Trigger.UtcTime);
        writer.WriteStartObject(s_trigger);
        writer.WriteString(s_source, result.Trigger.Source);
        if (result.Trigger.Correlation is { } correlation)
        {
            writer.WriteString(s_correlation, correlation);
        }

        writer.WriteEndObject();
        writer.WriteStartObject(s_image);
        writer.WriteNumber(s_width, result.ImageWidth);
        writer.WriteNumber(s_height, result.ImageHeight);
        writer.WriteEndObject();

        writer.WriteStartArray(s_defects);
        IReadOnlyList<Defect> defects = result.Defects;
        for (int i = 0; i < defects.Count; i++)
        {
            Defect defect = defects[i];
            writer.WriteStartObject();
            writer.WriteString(s_class, result.ClassName(defect.ClassIndex));
            writer.WriteNumber(s_classIndex, defect.ClassIndex);
            writer.WriteStartArray(s_bbox);
            writer.WriteNumberValue(defect.Bounds.X);
            writer.WriteNumberValue(defect.Bounds.Y);
            writer.WriteNumberValue(defect.Bounds.Width);
            writer.WriteNumberValue(defect.Bounds.Height);
            writer.WriteEndArray();
            writer.WriteNumber(s_area, defect.Area);
            writer.WriteStartArray(s_centroid);
            writer.WriteNumberValue(Math.Round(defect.CentroidX, 2));
            writer.WriteNumberValue(Math.Round(defect.CentroidY, 2));
            writer.WriteEndArray();
            writer.WriteNumber(s_maxScore, Math.Round(defect.MaxScore, 4));
            writer.WriteNumber(s_meanScore, Math.Round(defect.MeanScore, 4));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartObject(s_latencyMs);
        for (int s = 0; s < StageLatencies.Count; s++)
        {
            writer.WriteNumber(s_stages[s], Math.Round(result.Latencies[(PipelineStage)s], 3));
        }

        writer.WriteNumber(s_total, Math.Round(result.Latencies.TotalMilliseconds, 3));
        writer.WriteEndObject();
        WriteModel(writer, s_model, result.Model);
        writer.WriteEndObject();
    }

    /// <summary>Writes a model identity as <c>{id, version, precision, provider}</c> under <paramref name="name"/>.</summary>
    public static void WriteModel(Utf8JsonWriter writer, JsonEncodedText name, ModelIdentity model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(model);
        writer.WriteStartObject(name);
        writer.WriteString(s_id, model.Id);
        writer.WriteString(s_version, model.Version);
        writer.WriteString(s_precision, model.Precision);
        writer.WriteString(s_provider, model.ExecutionProvider);
        writer.WriteEndObject();
    }
}
