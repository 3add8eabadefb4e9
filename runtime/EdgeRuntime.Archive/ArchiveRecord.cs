using System.Text.Json.Serialization;

namespace EdgeRuntime.Archive;

// The JSON sidecar written next to every archived PNG. Field names are part of the archive's format: tools that
// read archives depend on them, so a rename needs a new SchemaVersion.

internal sealed record ArchiveRecord(
    int SchemaVersion,
    long Seq,
    string FrameId,
    string Verdict,
    string Status,
    string? Reason,
    ArchiveTrigger Trigger,
    ArchiveImage Image,
    ArchiveModel Model,
    IReadOnlyList<ArchiveDefect> Defects,
    ArchiveLatencies LatenciesMs,
    DateTimeOffset ArchivedUtc);

internal sealed record ArchiveTrigger(DateTimeOffset Utc, string Source, string? Correlation);

internal sealed record ArchiveImage(string File, int Width, int Height, string Format);

internal sealed record ArchiveModel(string Id, string Version, string Precision, string Provider, string Sha256);

internal sealed record ArchiveDefect(
    [property: JsonPropertyName("class")] string ClassName,
    int ClassIndex,
    ArchiveBox Bbox,
    int Area,
    float CentroidX,
    float CentroidY,
    float MaxScore,
    float MeanScore);

internal readonly record struct ArchiveBox(int X, int Y, int Width, int Height);

internal sealed record ArchiveLatencies(double Capture, double Preprocess, double Inference, double Postprocess, double Publish, double Total);

/// <summary>Source-generated serialization of the sidecar: camelCase names, nulls omitted, indented for people.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ArchiveRecord))]
internal sealed partial class ArchiveJsonContext : JsonSerializerContext;
