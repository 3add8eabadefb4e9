using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>
/// The contents of a package's <c>manifest.json</c>, schema version 1: what the model file is, how to feed it,
/// how to read its output, and the classes it segments.
/// </summary>
/// <remarks>
/// Immutable and safe to share between threads. Obtain one from <see cref="Parse"/> or <see cref="LoadAsync"/>,
/// which validate every rule of the schema; an instance built by hand is not validated until it is serialized and
/// parsed again.
/// </remarks>
public sealed record ModelManifest
{
    /// <summary>The schema version this library reads and writes.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>A manifest larger than this is refused unread: real ones are a few kilobytes.</summary>
    public const int MaxSizeBytes = 1024 * 1024;

    public required int SchemaVersion { get; init; }

    /// <summary>Lowercase letters, digits and single <c>-</c>, <c>_</c> or <c>.</c> separators, at most 64 characters.</summary>
    public required string Id { get; init; }

    /// <summary>Semantic version (semver 2.0.0) of this model build.</summary>
    public required string Version { get; init; }

    public required ModelTask Task { get; init; }

    public required ModelFileSpec Model { get; init; }

    public required InputSpec Input { get; init; }

    public required OutputSpec Output { get; init; }

    /// <summary>Classes in index order; <c>Classes[0]</c> is the background ("good") class.</summary>
    public required IReadOnlyList<ClassSpec> Classes { get; init; }

    /// <summary>Present exactly when <see cref="InputSpec.Resize"/> is <see cref="ResizeMode.Tile"/>.</summary>
    public TilingSpec? Tiling { get; init; }

    public ProvenanceSpec? Provenance { get; init; }

    /// <summary>Images with a known verdict, shipped in the package's <c>golden/</c> folder; may be empty.</summary>
    public IReadOnlyList<GoldenSampleSpec>? GoldenSamples { get; init; }

    /// <summary>Parses and validates a manifest from its UTF-8 JSON bytes, reporting every problem found.</summary>
    public static ManifestLoadResult Parse(ReadOnlySpan<byte> utf8Json) => ManifestReader.Read(utf8Json);

    /// <summary>Reads and validates the manifest file at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static async Task<ManifestLoadResult> LoadAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[]? bytes = await SmallFile.ReadAsync(path, MaxSizeBytes, cancellationToken).ConfigureAwait(false);
        return bytes is null
            ? ManifestLoadResult.Failure([new ManifestProblem("$", null, $"{path} is larger than {MaxSizeBytes} bytes")])
            : Parse(bytes);
    }

    /// <summary>Serializes the manifest as indented UTF-8 JSON in the schema's property names and enum spellings.</summary>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, ManifestJsonContext.Default.ModelManifest);

    /// <summary>The number of classes, K: the size of the output tensor's class dimension.</summary>
    [JsonIgnore]
    public int ClassCount => Classes.Count;
}

/// <summary>The ONNX file of the package.</summary>
public sealed record ModelFileSpec
{
    /// <summary>A plain file name in the package folder ending in <c>.onnx</c>; never a path.</summary>
    public required string File { get; init; }

    /// <summary>SHA-256 of the file, 64 lowercase hex digits.</summary>
    public required string Sha256 { get; init; }

    public required ModelPrecision Precision { get; init; }
}

/// <summary>The model's single input tensor and how frames are turned into it.</summary>
public sealed record InputSpec
{
    public required string Name { get; init; }

    public required TensorLayout Layout { get; init; }

    /// <summary>Input width in pixels.</summary>
    public required int Width { get; init; }

    /// <summary>Input height in pixels.</summary>
    public required int Height { get; init; }

    /// <summary>1 for <see cref="ColorOrder.Gray"/>, 3 otherwise.</summary>
    public required int Channels { get; init; }

    public required ColorOrder ColorOrder { get; init; }

    [JsonPropertyName("dtype")]
    public required InputDataType DataType { get; init; }

    public required ResizeMode Resize { get; init; }

    public required NormalizationSpec Normalization { get; init; }
}

/// <summary>Per-channel normalization: <c>value = (pixel * Scale - Mean[c]) / Std[c]</c>, pixels in 0..255.</summary>
public sealed record NormalizationSpec
{
    public required double Scale { get; init; }

    /// <summary>One value per channel, in the input's channel order.</summary>
    public required IReadOnlyList<double> Mean { get; init; }

    /// <summary>One positive value per channel, in the input's channel order.</summary>
    public required IReadOnlyList<double> Std { get; init; }
}

/// <summary>The output tensor, shape [N, K, H, W] with K = number of classes.</summary>
public sealed record OutputSpec
{
    public required string Name { get; init; }

    public required OutputKind Kind { get; init; }

    public required OutputActivation Activation { get; init; }
}

/// <summary>One segmentation class.</summary>
public sealed record ClassSpec
{
    /// <summary>Position in the output's class dimension; equal to the class's position in the list.</summary>
    public required int Index { get; init; }

    public required string Name { get; init; }

    /// <summary>Overlay colour, <c>#rrggbb</c>.</summary>
    public required string Color { get; init; }

    /// <summary>Per-pixel probability in (0, 1) above which a pixel belongs to this defect class; absent for class 0.</summary>
    public double? Threshold { get; init; }

    /// <summary>Smallest connected region, in model-input pixels, reported as a defect; absent for class 0.</summary>
    public int? MinArea { get; init; }

    /// <summary>Class 0 is the background ("good"); every other class is a defect class.</summary>
    [JsonIgnore]
    public bool IsBackground => Index == 0;
}

/// <summary>How frames larger than the input are cut into tiles (resize mode <c>tile</c>).</summary>
public sealed record TilingSpec
{
    /// <summary>Tile width in pixels; equals the input width.</summary>
    public required int TileWidth { get; init; }

    /// <summary>Tile height in pixels; equals the input height.</summary>
    public required int TileHeight { get; init; }

    /// <summary>Pixels shared by neighbouring tiles; less than either tile dimension.</summary>
    public required int Overlap { get; init; }
}

/// <summary>Where the model came from. Descriptive only: the runtime never acts on it.</summary>
public sealed record ProvenanceSpec
{
    public string? Framework { get; init; }

    public string? TrainingData { get; init; }

    /// <summary>When the model was exported, UTC.</summary>
    public DateTimeOffset? CreatedUtc { get; init; }

    /// <summary>Evaluation metrics by name (for example <c>anyDefectDice</c>).</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    /// <summary>
    /// Further descriptive keys a training pipeline chose to record; kept so that a rewritten manifest loses nothing.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, JsonElement>? Extra => ExtensionData;

    // Extension data can be neither init-only nor read-only; only the serializer sets it.
    [JsonExtensionData]
    [JsonInclude]
    internal Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>
/// An image with a known verdict, used to check a model end to end (the runtime's own preprocessing, model and
/// postprocessing) after every load and, when configured, periodically while it serves.
/// </summary>
public sealed record GoldenSampleSpec
{
    /// <summary>Package-relative path <c>golden/&lt;file name&gt;</c>, '/' separated.</summary>
    public required string Image { get; init; }

    /// <summary>SHA-256 of the image file, 64 lowercase hex digits: a golden image decides whether a model may serve, so it is verified like the model.</summary>
    public required string Sha256 { get; init; }

    public required GoldenVerdict Verdict { get; init; }

    /// <summary>
    /// When present, the defect classes (names from <see cref="ModelManifest.Classes"/>) the model must report on the
    /// image: exactly this set, no more and no fewer. Absent: only the verdict is checked. Empty for a PASS sample.
    /// </summary>
    public IReadOnlyList<string>? Classes { get; init; }
}
