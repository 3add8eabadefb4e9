using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>
/// Validates a manifest document rule by rule over its DOM, so that one pass reports every problem with its JSON
/// path (a deserializer stops at the first), then binds the valid document through <see cref="ManifestJsonContext"/>.
/// </summary>
/// <remarks>One instance per document; not thread-safe.</remarks>
internal sealed partial class ManifestReader
{
    private const int MaxFoundLength = 60;
    private const int MaxImageSize = 16384;
    private const int MaxClasses = 256;
    private const int MaxNameLength = 256;

    private static readonly string[] s_rootProperties =
        ["schemaVersion", "id", "version", "task", "model", "input", "output", "classes", "tiling", "provenance", "goldenSamples"];

    private static readonly string[] s_modelProperties = ["file", "sha256", "precision"];
    private static readonly string[] s_inputProperties =
        ["name", "layout", "width", "height", "channels", "colorOrder", "dtype", "resize", "normalization"];

    private static readonly string[] s_normalizationProperties = ["scale", "mean", "std"];
    private static readonly string[] s_outputProperties = ["name", "kind", "activation"];
    private static readonly string[] s_classProperties = ["index", "name", "color", "threshold", "minArea"];
    private static readonly string[] s_tilingProperties = ["tileWidth", "tileHeight", "overlap"];
    private static readonly string[] s_provenanceProperties = ["framework", "trainingData", "createdUtc", "metrics"];
    private static readonly string[] s_goldenProperties = ["image", "sha256", "verdict", "classes"];

    private static ReadOnlySpan<byte> Utf8ByteOrderMark => [0xEF, 0xBB, 0xBF];

    private readonly List<ManifestProblem> _problems = [];

    private ManifestReader()
    {
    }

    public static ManifestLoadResult Read(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.Length > ModelManifest.MaxSizeBytes)
        {
            return ManifestLoadResult.Failure(
                [new ManifestProblem("$", null, $"the manifest is {utf8Json.Length} bytes; at most {ModelManifest.MaxSizeBytes} are allowed")]);
        }

        // Editors on Windows may prepend a UTF-8 byte order mark; it carries no meaning here.
        if (utf8Json.StartsWith(Utf8ByteOrderMark))
        {
            utf8Json = utf8Json[Utf8ByteOrderMark.Length..];
        }

        if (Utf8Text.IndexOfInvalid(utf8Json) is var invalid and >= 0)
        {
            return ManifestLoadResult.Failure([new ManifestProblem("$", null, $"not valid UTF-8 text: bad byte sequence at offset {invalid}")]);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            return ManifestLoadResult.Failure([MalformedJson(ex)]);
        }

        using (document)
        {
            ManifestReader reader = new();
            reader.ReadManifest(document.RootElement);
            if (reader._problems.Count > 0)
            {
                return ManifestLoadResult.Failure(reader._problems);
            }

            ModelManifest? manifest = document.RootElement.Deserialize(ManifestJsonContext.Default.ModelManifest);
            return ManifestLoadResult.Success(
                manifest ?? throw new InvalidOperationException("A manifest that passed validation bound to null."));
        }
    }

    private static ManifestProblem MalformedJson(JsonException ex)
    {
        // The exception message repeats the position in its own words; keep only the description.
        string message = ex.Message;
        foreach (string marker in (ReadOnlySpan<string>)[" Path:", " LineNumber:"])
        {
            int cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut >= 0)
            {
                message = message[..cut];
            }
        }

        long line = (ex.LineNumber ?? 0) + 1;
        long position = (ex.BytePositionInLine ?? 0) + 1;
        return new ManifestProblem("$", null, $"malformed JSON at line {line}, position {position}: {message.TrimEnd()}");
    }

    private void ReadManifest(JsonElement root)
    {
        JsonObjectView? manifest = ReadObject(root, string.Empty, s_rootProperties);
        if (manifest is null)
        {
            return;
        }

        int? schemaVersion = ReadInteger(manifest, "schemaVersion", int.MinValue, int.MaxValue);
        if (schemaVersion is { } version && version != ModelManifest.CurrentSchemaVersion)
        {
            // A newer schema is judged by its own rules; listing v1 complaints about it would only be noise.
            Report(manifest.PathOf("schemaVersion"), manifest["schemaVersion"],
                $"unsupported schema version; this runtime reads schema version {ModelManifest.CurrentSchemaVersion}");
            return;
        }

        string? id = ReadString(manifest, "id");
        if (id is not null && (id.Length > 64 || !IdPattern().IsMatch(id)))
        {
            Report(manifest.PathOf("id"), manifest["id"],
                "must be 1-64 lowercase letters or digits, separated by single '-', '_' or '.' (e.g. defect-unet)");
        }

        string? semanticVersion = ReadString(manifest, "version");
        if (semanticVersion is not null && (semanticVersion.Length > 64 || !SemanticVersionPattern().IsMatch(semanticVersion)))
        {
            Report(manifest.PathOf("version"), manifest["version"], "must be a semantic version MAJOR.MINOR.PATCH[-pre][+build] (e.g. 1.0.0)");
        }

        ReadEnum(manifest, "task", ManifestJsonContext.Default.ModelTask);
        ReadModel(manifest);
        InputFacts input = ReadInput(manifest);
        ReadOutput(manifest);
        Dictionary<string, int>? classNames = ReadClasses(manifest);
        ReadTiling(manifest, input);
        ReadProvenance(manifest);
        ReadGoldenSamples(manifest, classNames);
    }

    private void ReadModel(JsonObjectView manifest)
    {
        JsonObjectView? model = ReadObject(manifest, "model", s_modelProperties);
        if (model is null)
        {
            return;
        }

        string? file = ReadString(model, "file");
        if (file is not null)
        {
            if (!PackagePaths.IsPlainFileName(file))
            {
                Report(model.PathOf("file"), model["file"], PackagePaths.PlainFileNameRule);
            }
            else if (!file.EndsWith(".onnx", StringComparison.Ordinal))
            {
                Report(model.PathOf("file"), model["file"], "must name an ONNX file ending in '.onnx'");
            }
        }

        string? sha256 = ReadString(model, "sha256");
        if (sha256 is not null && !Sha256Pattern().IsMatch(sha256))
        {
            Report(model.PathOf("sha256"), model["sha256"],
                "must be 64 lowercase hex digits, the SHA-256 of the model file (edge-models package --update-hash writes it)");
        }

        ReadEnum(model, "precision", ManifestJsonContext.Default.ModelPrecision);
    }

    private InputFacts ReadInput(JsonObjectView manifest)
    {
        JsonObjectView? input = ReadObject(manifest, "input", s_inputProperties);
        if (input is null)
        {
            return default;
        }

        ReadName(input, "name");
        ReadEnum(input, "layout", ManifestJsonContext.Default.TensorLayout);
        int? width = ReadInteger(input, "width", 1, MaxImageSize);
        int? height = ReadInteger(input, "height", 1, MaxImageSize);
        ColorOrder? colorOrder = ReadEnum(input, "colorOrder", ManifestJsonContext.Default.ColorOrder);
        int? channels = ReadInteger(input, "channels", int.MinValue, int.MaxValue);
        if (channels is { } channelCount)
        {
            int? expected = colorOrder switch
            {
                ColorOrder.Gray => 1,
                ColorOrder.Rgb or ColorOrder.Bgr => 3,
                _ => null,
            };
            if (expected is { } required && channelCount != required)
            {
                Report(input.PathOf("channels"), input["channels"],
                    $"must be {required} for colorOrder {SchemaSpelling.Of(colorOrder!.Value, ManifestJsonContext.Default.ColorOrder)}");
                channels = null;
            }
            else if (expected is null && channelCount is not (1 or 3))
            {
                Report(input.PathOf("channels"), input["channels"], "must be 1 (GRAY) or 3 (RGB, BGR)");
                channels = null;
            }
        }

        ReadEnum(input, "dtype", ManifestJsonContext.Default.InputDataType);
        ResizeMode? resize = ReadEnum(input, "resize", ManifestJsonContext.Default.ResizeMode);
        ReadNormalization(input, channels);
        return new InputFacts(width, height, resize);
    }

    private void ReadNormalization(JsonObjectView input, int? channels)
    {
        JsonObjectView? normalization = ReadObject(input, "normalization", s_normalizationProperties);
        if (normalization is null)
        {
            return;
        }

        double? scale = ReadNumber(normalization, "scale");
        if (scale is <= 0)
        {
            Report(normalization.PathOf("scale"), normalization["scale"], "must be > 0 (1/255 maps 8-bit pixels to [0, 1])");
        }

        ReadPerChannel(normalization, "mean", channels, mustBePositive: false);
        ReadPerChannel(normalization, "std", channels, mustBePositive: true);
    }

    private void ReadPerChannel(JsonObjectView normalization, string name, int? channels, bool mustBePositive)
    {
        JsonElement? array = ReadArray(normalization, name);
        if (array is not { } values)
        {
            return;
        }

        string path = normalization.PathOf(name);
        if (channels is { } count && values.GetArrayLength() != count)
        {
            Report(path, values, $"must have one value per input channel: {count} values, found {values.GetArrayLength()}");
        }

        int index = 0;
        foreach (JsonElement value in values.EnumerateArray())
        {
            string itemPath = $"{path}[{index}]";
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number))
            {
                Report(itemPath, value, "must be a number");
            }
            else if (mustBePositive && number <= 0)
            {
                Report(itemPath, value, "must be > 0 (it divides)");
            }

            index++;
        }
    }

    private void ReadOutput(JsonObjectView manifest)
    {
        JsonObjectView? output = ReadObject(manifest, "output", s_outputProperties);
        if (output is null)
        {
            return;
        }

        ReadName(output, "name");
        ReadEnum(output, "kind", ManifestJsonContext.Default.OutputKind);
        ReadEnum(output, "activation", ManifestJsonContext.Default.OutputActivation);
    }

    /// <summary>Reads the classes; returns their indices by name (case-sensitive), or null when the list has a problem of its own.</summary>
    private Dictionary<string, int>? ReadClasses(JsonObjectView manifest)
    {
        int problemsBefore = _problems.Count;
        JsonElement? array = ReadArray(manifest, "classes");
        if (array is not { } classes)
        {
            return null;
        }

        string path = manifest.PathOf("classes");
        int count = classes.GetArrayLength();
        if (count is < 2 or > MaxClasses)
        {
            Report(path, classes, $"must list 2 to {MaxClasses} classes: class 0 (background) and at least one defect class");
        }

        Dictionary<string, int> names = new(StringComparer.OrdinalIgnoreCase);
        int position = 0;
        foreach (JsonElement element in classes.EnumerateArray())
        {
            ReadClass(element, $"{path}[{position}]", position, names);
            position++;
        }

        // A broken class list is reported once, not again through every golden sample that names a class.
        // Results name classes with the manifest's own spelling, so references to them must use it too.
        return _problems.Count > problemsBefore ? null : names.ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
    }

    private void ReadClass(JsonElement element, string path, int position, Dictionary<string, int> names)
    {
        JsonObjectView? item = ReadObject(element, path, s_classProperties);
        if (item is null)
        {
            return;
        }

        int? index = ReadInteger(item, "index", int.MinValue, int.MaxValue);
        if (index is { } value && value != position)
        {
            Report(item.PathOf("index"), item["index"],
                $"must be {position}: classes are listed in index order, contiguous from 0");
        }

        string? name = ReadString(item, "name");
        if (name is not null)
        {
            if (!ClassNamePattern().IsMatch(name))
            {
                Report(item.PathOf("name"), item["name"],
                    "must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit");
            }
            else if (!names.TryAdd(name, position))
            {
                Report(item.PathOf("name"), item["name"], $"must be unique; classes[{names[name]}] has the same name (case is ignored)");
            }
        }

        string? color = ReadString(item, "color");
        if (color is not null && !ColorPattern().IsMatch(color))
        {
            Report(item.PathOf("color"), item["color"], "must be a colour '#rrggbb' (e.g. #ff3030)");
        }

        if (position == 0)
        {
            foreach (string defectOnly in (ReadOnlySpan<string>)["threshold", "minArea"])
            {
                if (item.Has(defectOnly))
                {
                    Report(item.PathOf(defectOnly), item[defectOnly],
                        "must be absent: class 0 is the background, which has no defect threshold or area");
                }
            }

            return;
        }

        double? threshold = ReadNumber(item, "threshold");
        if (threshold is <= 0 or >= 1)
        {
            Report(item.PathOf("threshold"), item["threshold"], "must be in (0, 1)");
        }

        ReadInteger(item, "minArea", 0, int.MaxValue);
    }

    private void ReadTiling(JsonObjectView manifest, InputFacts input)
    {
        if (!manifest.Has("tiling"))
        {
            if (input.Resize == ResizeMode.Tile)
            {
                Report(manifest.PathOf("tiling"), null, "is required when input.resize is \"tile\"");
            }

            return;
        }

        if (input.Resize == ResizeMode.Stretch)
        {
            Report(manifest.PathOf("tiling"), manifest["tiling"],
                "must be absent when input.resize is \"stretch\": stretched frames are never tiled");
            return;
        }

        JsonObjectView? tiling = ReadObject(manifest, "tiling", s_tilingProperties);
        if (tiling is null)
        {
            return;
        }

        int? tileWidth = ReadInteger(tiling, "tileWidth", 1, MaxImageSize);
        int? tileHeight = ReadInteger(tiling, "tileHeight", 1, MaxImageSize);
        int? overlap = ReadInteger(tiling, "overlap", 0, MaxImageSize);

        // Tiles are the model's input: a tile of any other size would have to be resized, which is what stretch is for.
        if (input.Resize == ResizeMode.Tile)
        {
            if (tileWidth is { } tw && input.Width is { } iw && tw != iw)
            {
                Report(tiling.PathOf("tileWidth"), tiling["tileWidth"], $"must equal input.width ({iw}) when input.resize is \"tile\"");
            }

            if (tileHeight is { } th && input.Height is { } ih && th != ih)
            {
                Report(tiling.PathOf("tileHeight"), tiling["tileHeight"], $"must equal input.height ({ih}) when input.resize is \"tile\"");
            }
        }

        if (overlap is { } o && tileWidth is { } w && tileHeight is { } h && o >= Math.Min(w, h))
        {
            Report(tiling.PathOf("overlap"), tiling["overlap"], $"must be less than the tile size ({Math.Min(w, h)})");
        }
    }

    private void ReadProvenance(JsonObjectView manifest)
    {
        if (!manifest.Has("provenance"))
        {
            return;
        }

        // Provenance is descriptive and pipelines add their own keys; a typo there cannot change a verdict.
        JsonObjectView? provenance = ReadObject(manifest, "provenance", s_provenanceProperties, allowUnknown: true);
        if (provenance is null)
        {
            return;
        }

        ReadString(provenance, "framework", required: false);
        ReadString(provenance, "trainingData", required: false);
        if (ReadString(provenance, "createdUtc", required: false) is not null)
        {
            JsonElement created = provenance["createdUtc"];
            if (!created.TryGetDateTimeOffset(out DateTimeOffset timestamp) || timestamp.Offset != TimeSpan.Zero)
            {
                Report(provenance.PathOf("createdUtc"), created, "must be an ISO 8601 UTC timestamp (e.g. 2026-11-22T10:15:00Z)");
            }
        }

        if (provenance.Has("metrics"))
        {
            JsonObjectView? metrics = ReadObject(provenance, "metrics", [], allowUnknown: true);
            if (metrics is not null)
            {
                foreach (string metric in metrics.Names)
                {
                    ReadNumber(metrics, metric);
                }
            }
        }
    }

    private void ReadGoldenSamples(JsonObjectView manifest, Dictionary<string, int>? classNames)
    {
        if (!manifest.Has("goldenSamples"))
        {
            return;
        }

        JsonElement? array = ReadArray(manifest, "goldenSamples");
        if (array is not { } samples)
        {
            return;
        }

        string path = manifest.PathOf("goldenSamples");
        HashSet<string> images = new(StringComparer.Ordinal);
        int position = 0;
        foreach (JsonElement element in samples.EnumerateArray())
        {
            JsonObjectView? sample = ReadObject(element, $"{path}[{position}]", s_goldenProperties);
            position++;
            if (sample is null)
            {
                continue;
            }

            string? image = ReadString(sample, "image");
            if (image is not null)
            {
                if (!PackagePaths.IsGoldenImagePath(image))
                {
                    Report(sample.PathOf("image"), sample["image"], PackagePaths.GoldenImageRule);
                }
                else if (!images.Add(image))
                {
                    Report(sample.PathOf("image"), sample["image"], "must be unique: the same image is listed twice");
                }
            }

            string? sha256 = ReadString(sample, "sha256");
            if (sha256 is not null && !Sha256Pattern().IsMatch(sha256))
            {
                Report(sample.PathOf("sha256"), sample["sha256"],
                    "must be 64 lowercase hex digits, the SHA-256 of the image file (edge-models package DIR --golden IMAGES --labels FILE writes it)");
            }

            GoldenVerdict? verdict = ReadEnum(sample, "verdict", ManifestJsonContext.Default.GoldenVerdict);
            if (sample.Has("classes"))
            {
                ReadGoldenClasses(sample, verdict, classNames);
            }
        }
    }

    private void ReadGoldenClasses(JsonObjectView sample, GoldenVerdict? verdict, Dictionary<string, int>? classNames)
    {
        JsonElement? array = ReadArray(sample, "classes");
        if (array is not { } classes)
        {
            return;
        }

        string path = sample.PathOf("classes");
        int count = classes.GetArrayLength();
        if (verdict == GoldenVerdict.Pass && count > 0)
        {
            Report(path, classes, "must be empty or absent for a PASS sample: a part that passes has no defects");
        }
        else if (verdict == GoldenVerdict.Fail && count == 0)
        {
            Report(path, classes, "must name at least one defect class for a FAIL sample (leave it out to check only the verdict)");
        }

        string? defectClasses = classNames is null
            ? null
            : string.Join(", ", classNames.Where(pair => pair.Value > 0).OrderBy(pair => pair.Value).Select(pair => pair.Key));
        HashSet<string> seen = new(StringComparer.Ordinal);
        int index = 0;
        foreach (JsonElement element in classes.EnumerateArray())
        {
            string itemPath = $"{path}[{index}]";
            index++;
            if (element.ValueKind != JsonValueKind.String)
            {
                Report(itemPath, element, "must be a string: the name of a defect class");
                continue;
            }

            string name = element.GetString()!;
            if (!seen.Add(name))
            {
                Report(itemPath, element, "must be unique: the class is listed twice");
            }
            else if (classNames is not null && (!classNames.TryGetValue(name, out int classIndex) || classIndex == 0))
            {
                Report(itemPath, element, $"must name a defect class of this manifest (exact spelling): {defectClasses}");
            }
        }
    }

    private JsonObjectView? ReadObject(JsonObjectView parent, string name, string[] known, bool allowUnknown = false)
    {
        if (!parent.TryGet(name, out JsonElement element))
        {
            Report(parent.PathOf(name), null, "is required");
            return null;
        }

        return ReadObject(element, parent.PathOf(name), known, allowUnknown);
    }

    private JsonObjectView? ReadObject(JsonElement element, string path, string[] known, bool allowUnknown = false)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            Report(path.Length == 0 ? "$" : path, element, "must be a JSON object");
            return null;
        }

        Dictionary<string, JsonElement> properties = new(StringComparer.Ordinal);
        foreach (JsonProperty property in element.EnumerateObject())
        {
            string propertyPath = JsonObjectView.Join(path, property.Name);
            if (!allowUnknown && Array.IndexOf(known, property.Name) < 0)
            {
                Report(propertyPath, property.Value, UnknownPropertyMessage(property.Name, known));
            }
            else if (!properties.TryAdd(property.Name, property.Value))
            {
                // Two copies of a key mean two readers may disagree about which one counts: never acceptable in a signed file.
                Report(propertyPath, property.Value, "duplicate property");
            }
        }

        return new JsonObjectView(path, properties);
    }

    private string? ReadString(JsonObjectView owner, string name, bool required = true)
    {
        if (!owner.TryGet(name, out JsonElement element))
        {
            if (required)
            {
                Report(owner.PathOf(name), null, "is required");
            }

            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            Report(owner.PathOf(name), element, "must be a string");
            return null;
        }

        return element.GetString();
    }

    private void ReadName(JsonObjectView owner, string name)
    {
        string? value = ReadString(owner, name);
        if (value is not null && (value.Length is 0 or > MaxNameLength || value.Any(char.IsControl)))
        {
            Report(owner.PathOf(name), owner[name], $"must be a tensor name of 1-{MaxNameLength} characters, without control characters");
        }
    }

    private int? ReadInteger(JsonObjectView owner, string name, int min, int max)
    {
        if (!owner.TryGet(name, out JsonElement element))
        {
            Report(owner.PathOf(name), null, "is required");
            return null;
        }

        string range = (min, max) switch
        {
            (int.MinValue, int.MaxValue) => "must be an integer",
            (_, int.MaxValue) => string.Create(CultureInfo.InvariantCulture, $"must be an integer >= {min}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"must be an integer from {min} to {max}"),
        };
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out int value) || value < min || value > max)
        {
            Report(owner.PathOf(name), element, range);
            return null;
        }

        return value;
    }

    private double? ReadNumber(JsonObjectView owner, string name)
    {
        if (!owner.TryGet(name, out JsonElement element))
        {
            Report(owner.PathOf(name), null, "is required");
            return null;
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out double value) || !double.IsFinite(value))
        {
            Report(owner.PathOf(name), element, "must be a number");
            return null;
        }

        return value;
    }

    private JsonElement? ReadArray(JsonObjectView owner, string name)
    {
        if (!owner.TryGet(name, out JsonElement element))
        {
            Report(owner.PathOf(name), null, "is required");
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            Report(owner.PathOf(name), element, "must be a JSON array");
            return null;
        }

        return element;
    }

    private T? ReadEnum<T>(JsonObjectView owner, string name, JsonTypeInfo<T> typeInfo)
        where T : struct, Enum
    {
        string? text = ReadString(owner, name);
        if (text is null)
        {
            return null;
        }

        // Spellings come from the same JsonStringEnumMemberName attributes the serializer writes, and must match
        // exactly: the serializer's own reader would also accept other casings and numbers.
        foreach (T value in Enum.GetValues<T>())
        {
            if (string.Equals(SchemaSpelling.Of(value, typeInfo), text, StringComparison.Ordinal))
            {
                return value;
            }
        }

        string allowed = string.Join(", ", Enum.GetValues<T>().Select(value => SchemaSpelling.Of(value, typeInfo)));
        Report(owner.PathOf(name), owner[name], $"must be one of: {allowed}");
        return null;
    }

    private void Report(string path, JsonElement? found, string requirement) =>
        _problems.Add(new ManifestProblem(path, found is { } value ? Shorten(value.GetRawText()) : null, requirement));

    private static string Shorten(string rawJson)
    {
        string singleLine = string.Join(' ', rawJson.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(part => part.Trim()));
        return singleLine.Length <= MaxFoundLength ? singleLine : string.Concat(singleLine.AsSpan(0, MaxFoundLength - 3), "...");
    }

    private static string UnknownPropertyMessage(string name, string[] known)
    {
        string? closest = null;
        int best = int.MaxValue;
        foreach (string candidate in known)
        {
            int distance = EditDistance(name, candidate);
            if (distance < best)
            {
                best = distance;
                closest = candidate;
            }
        }

        if (closest is not null && best <= Math.Max(2, closest.Length / 4))
        {
            return $"unknown property; did you mean \"{closest}\"?";
        }

        return known.Length == 0 ? "unknown property" : $"unknown property; allowed here: {string.Join(", ", known)}";
    }

    private static int EditDistance(string a, string b)
    {
        // Case differences count as one edit each, so "Width" still suggests "width".
        int[] previous = new int[b.Length + 1];
        int[] current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    [GeneratedRegex("^[a-z0-9]+(?:[-_.][a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    // The grammar from semver.org, section "Is there a suggested regular expression".
    [GeneratedRegex(
        @"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$",
        RegexOptions.CultureInvariant)]
    private static partial Regex SemanticVersionPattern();

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^#[0-9a-fA-F]{6}$", RegexOptions.CultureInvariant)]
    private static partial Regex ColorPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex ClassNamePattern();

    /// <summary>Input values later rules depend on; null where the value itself was invalid.</summary>
    private readonly record struct InputFacts(int? Width, int? Height, ResizeMode? Resize);

    /// <summary>The properties of one JSON object, by name, with the object's path.</summary>
    private sealed class JsonObjectView(string path, Dictionary<string, JsonElement> properties)
    {
        public IEnumerable<string> Names => properties.Keys;

        public JsonElement this[string name] => properties[name];

        public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

        public string PathOf(string name) => Join(path, name);

        public bool Has(string name) => properties.ContainsKey(name);

        public bool TryGet(string name, out JsonElement element) => properties.TryGetValue(name, out element);
    }
}
