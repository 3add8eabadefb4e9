using System.Text;
using System.Text.Json.Nodes;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.ModelPackages.Tests.Support;

namespace EdgeRuntime.ModelPackages.Tests;

public sealed class ManifestValidationTests
{
    public static TheoryData<string, string, string> SingleRuleViolations => new()
    {
        // Each row: a JSON edit (path=JSON value, or path=<delete>), the problem path, and a fragment of its message.
        { "id=\"Defect UNet\"", "id", "lowercase letters or digits" },
        { "version=\"1.0\"", "version", "semantic version" },
        { "version=\"01.0.0\"", "version", "semantic version" },
        { "task=\"classification\"", "task", "must be one of: semantic-segmentation" },
        { "model.file=\"../model.onnx\"", "model.file", "plain file name" },
        { "model.file=\"/opt/models/model.onnx\"", "model.file", "plain file name" },
        { "model.file=\"sub\\\\model.onnx\"", "model.file", "plain file name" },
        { "model.file=\"model.bin\"", "model.file", "ending in '.onnx'" },
        { "model.sha256=\"ABCDEF\"", "model.sha256", "64 lowercase hex digits" },
        { "model.sha256=<delete>", "model.sha256", "is required" },
        { "model.precision=\"fp64\"", "model.precision", "must be one of: fp32, fp16, int8" },
        { "input.layout=\"nchw\"", "input.layout", "must be one of: NCHW, NHWC" },
        { "input.width=0", "input.width", "integer from 1 to 16384" },
        { "input.height=31.5", "input.height", "integer from 1 to 16384" },
        { "input.height=\"32\"", "input.height", "integer from 1 to 16384" },
        { "input.channels=4", "input.channels", "must be 3 for colorOrder RGB" },
        { "input.colorOrder=\"GRAY\"", "input.channels", "must be 1 for colorOrder GRAY" },
        { "input.dtype=\"uint8\"", "input.dtype", "must be one of: float32" },
        { "input.resize=\"crop\"", "input.resize", "must be one of: tile, stretch" },
        { "input.name=\"\"", "input.name", "tensor name" },
        { "input.normalization.scale=0", "input.normalization.scale", "must be > 0" },
        { "input.normalization.mean=[0.5,0.5]", "input.normalization.mean", "3 values, found 2" },
        { "input.normalization.std=[0.25,0,0.25]", "input.normalization.std[1]", "must be > 0" },
        { "input.normalization.std=[0.25,-1,0.25]", "input.normalization.std[1]", "must be > 0" },
        { "input.normalization.mean=[0.5,\"x\",0.5]", "input.normalization.mean[1]", "must be a number" },
        { "output.kind=\"scores\"", "output.kind", "must be one of: logits, probabilities" },
        { "output.activation=\"relu\"", "output.activation", "must be one of: softmax, sigmoid" },
        { "classes=[{\"index\":0,\"name\":\"good\",\"color\":\"#000000\"}]", "classes", "2 to 256 classes" },
        { "classes[2].index=3", "classes[2].index", "must be 2" },
        { "classes[1].index=0", "classes[1].index", "contiguous from 0" },
        { "classes[2].name=\"Linear\"", "classes[2].name", "unique" },
        { "classes[1].name=\"line ar\"", "classes[1].name", "letters, digits" },
        { "classes[1].color=\"#ff30\"", "classes[1].color", "#rrggbb" },
        { "classes[1].color=\"red\"", "classes[1].color", "#rrggbb" },
        { "classes[1].threshold=0", "classes[1].threshold", "must be in (0, 1)" },
        { "classes[1].threshold=1", "classes[1].threshold", "must be in (0, 1)" },
        { "classes[1].threshold=<delete>", "classes[1].threshold", "is required" },
        { "classes[2].minArea=-1", "classes[2].minArea", "integer >= 0" },
        { "classes[2].minArea=2.5", "classes[2].minArea", "integer >= 0" },
        { "classes[0].threshold=0.5", "classes[0].threshold", "class 0 is the background" },
        { "tiling.overlap=32", "tiling.overlap", "less than the tile size (32)" },
        { "tiling.tileWidth=0", "tiling.tileWidth", "integer from 1 to 16384" },
        { "tiling.tileWidth=16", "tiling.tileWidth", "must equal input.width (32)" },
        { "tiling.tileHeight=64", "tiling.tileHeight", "must equal input.height (32)" },
        { "tiling=<delete>", "tiling", "required when input.resize is \"tile\"" },
        { "input.resize=\"stretch\"", "tiling", "must be absent when input.resize is \"stretch\"" },
        { "provenance.createdUtc=\"yesterday\"", "provenance.createdUtc", "ISO 8601 UTC" },
        { "provenance.createdUtc=\"2026-11-22T10:15:00+01:00\"", "provenance.createdUtc", "ISO 8601 UTC" },
        { "provenance.metrics.anyDefectDice=\"high\"", "provenance.metrics.anyDefectDice", "must be a number" },
        { "goldenSamples[0].image=\"../../etc/passwd\"", "goldenSamples[0].image", "golden/<plain file name>" },
        { "goldenSamples[0].image=\"/etc/passwd\"", "goldenSamples[0].image", "golden/<plain file name>" },
        { "goldenSamples[0].image=\"golden/../manifest.json\"", "goldenSamples[0].image", "golden/<plain file name>" },
        { "goldenSamples[0].image=\"golden/sub/a.png\"", "goldenSamples[0].image", "golden/<plain file name>" },
        { "goldenSamples[0].verdict=\"MAYBE\"", "goldenSamples[0].verdict", "must be one of: PASS, FAIL" },
        { "goldenSamples[0].sha256=<delete>", "goldenSamples[0].sha256", "is required" },
        { "goldenSamples[0].sha256=\"ABC\"", "goldenSamples[0].sha256", "64 lowercase hex digits, the SHA-256 of the image file" },
        { "goldenSamples[0].classes=[\"scratch\"]", "goldenSamples[0].classes[0]", "must name a defect class of this manifest (exact spelling): linear, blob" },
        { "goldenSamples[0].classes=[\"Linear\"]", "goldenSamples[0].classes[0]", "must name a defect class of this manifest (exact spelling): linear, blob" },
        { "goldenSamples[0].classes=[\"good\"]", "goldenSamples[0].classes[0]", "must name a defect class" },
        { "goldenSamples[0].classes=[\"linear\",\"linear\"]", "goldenSamples[0].classes[1]", "must be unique" },
        { "goldenSamples[0].classes=[1]", "goldenSamples[0].classes[0]", "must be a string" },
        { "goldenSamples[0].classes=\"linear\"", "goldenSamples[0].classes", "must be a JSON array" },
        { "goldenSamples[0].classes=[]", "goldenSamples[0].classes", "at least one defect class for a FAIL sample" },
        { "goldenSamples[0].verdict=\"PASS\"", "goldenSamples[0].classes", "empty or absent for a PASS sample" },
        { "goldenSamples[0].file=\"golden/a.png\"", "goldenSamples[0].file", "unknown property; allowed here: image, sha256, verdict, classes" },
        { "tilling={}", "tilling", "did you mean \"tiling\"?" },
        { "input.widht=32", "input.widht", "did you mean \"width\"?" },
        { "classes[1].colour=\"#ffffff\"", "classes[1].colour", "did you mean \"color\"?" },
        { "model.comment=\"x\"", "model.comment", "unknown property; allowed here: file, sha256, precision" },
        { "output=[]", "output", "must be a JSON object" },
        { "schemaVersion=<delete>", "schemaVersion", "is required" },
    };

    [Fact]
    public void ValidManifestBindsEveryField()
    {
        byte[] json = TestPackages.ToBytes(TestPackages.ValidManifest());

        ManifestLoadResult result = ModelManifest.Parse(json);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Problems));
        ModelManifest manifest = result.Manifest;
        Assert.Equal("tiny-segmenter", manifest.Id);
        Assert.Equal("1.2.3-rc.1+build.7", manifest.Version);
        Assert.Equal(ModelTask.SemanticSegmentation, manifest.Task);
        Assert.Equal(TestPackages.Sha256Hex(TestPackages.ModelBytes), manifest.Model.Sha256);
        Assert.Equal(ModelPrecision.Fp32, manifest.Model.Precision);
        Assert.Equal(TensorLayout.Nchw, manifest.Input.Layout);
        Assert.Equal(ColorOrder.Rgb, manifest.Input.ColorOrder);
        Assert.Equal(InputDataType.Float32, manifest.Input.DataType);
        Assert.Equal(ResizeMode.Tile, manifest.Input.Resize);
        Assert.Equal(1.0 / 255.0, manifest.Input.Normalization.Scale, 15);
        Assert.Equal([0.25, 0.25, 0.25], manifest.Input.Normalization.Std);
        Assert.Equal(OutputActivation.Softmax, manifest.Output.Activation);
        Assert.Equal(["good", "linear", "blob"], manifest.Classes.Select(c => c.Name));
        Assert.True(manifest.Classes[0].IsBackground);
        Assert.Null(manifest.Classes[0].Threshold);
        Assert.Equal(0.4, manifest.Classes[2].Threshold);
        Assert.Equal(10, manifest.Classes[2].MinArea);
        Assert.Equal(8, manifest.Tiling!.Overlap);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 15, 0, TimeSpan.Zero), manifest.Provenance!.CreatedUtc);
        Assert.Equal(0.9, manifest.Provenance.Metrics!["anyDefectDice"]);
        Assert.Equal("abc123", manifest.Provenance.Extra!["gitCommit"].GetString());
        GoldenSampleSpec golden = Assert.Single(manifest.GoldenSamples!);
        Assert.Equal(GoldenVerdict.Fail, golden.Verdict);
        Assert.Equal(TestPackages.Sha256Hex(TestPackages.GoldenBytes), golden.Sha256);
        Assert.Equal(["linear"], golden.Classes);
    }

    [Fact]
    public void SerializedManifestParsesBackToTheSameDocument()
    {
        ModelManifest original = ModelManifest.Parse(TestPackages.ToBytes(TestPackages.ValidManifest())).Manifest!;
        ModelManifest changed = original with { Model = original.Model with { Precision = ModelPrecision.Int8 }, Tiling = null, Input = original.Input with { Resize = ResizeMode.Stretch } };

        byte[] written = changed.ToUtf8Json();
        ManifestLoadResult reread = ModelManifest.Parse(written);

        Assert.True(reread.IsValid, string.Join(Environment.NewLine, reread.Problems));
        Assert.Equal(Encoding.UTF8.GetString(written), Encoding.UTF8.GetString(reread.Manifest.ToUtf8Json()));
        Assert.Contains("\"precision\": \"int8\"", Encoding.UTF8.GetString(written), StringComparison.Ordinal);
        Assert.Contains("\"dtype\": \"float32\"", Encoding.UTF8.GetString(written), StringComparison.Ordinal);
        Assert.DoesNotContain("tiling", Encoding.UTF8.GetString(written), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(SingleRuleViolations))]
    public void EachRuleViolationIsReportedAtItsPath(string edit, string expectedPath, string expectedFragment)
    {
        JsonObject manifest = TestPackages.ValidManifest();
        Apply(manifest, edit);

        ManifestLoadResult result = ModelManifest.Parse(TestPackages.ToBytes(manifest));

        Assert.False(result.IsValid);
        ManifestProblem problem = Assert.Single(result.Problems);
        Assert.Equal(expectedPath, problem.Path);
        Assert.Contains(expectedFragment, problem.Requirement, StringComparison.Ordinal);
    }

    [Fact]
    public void OneManifestWithSeveralErrorsReportsEveryOne()
    {
        JsonObject manifest = TestPackages.ValidManifest();
        Apply(manifest, "classes[1].threshold=1.7");
        Apply(manifest, "classes[2].color=\"blue\"");
        Apply(manifest, "input.width=\"wide\"");
        Apply(manifest, "input.normalization.std=[0.25,0.25]");
        Apply(manifest, "model.sha256=\"123\"");
        Apply(manifest, "input.widht=32");
        Apply(manifest, "output.name=<delete>");

        ManifestLoadResult result = ModelManifest.Parse(TestPackages.ToBytes(manifest));

        Assert.False(result.IsValid);
        Assert.Null(result.Manifest);
        Assert.Equal(
            ["model.sha256", "input.widht", "input.width", "input.normalization.std", "output.name", "classes[1].threshold", "classes[2].color"],
            result.Problems.Select(p => p.Path));
        Assert.Contains("classes[1].threshold = 1.7: must be in (0, 1)", result.Problems.Select(p => p.ToString()));
        Assert.Contains("input.width = \"wide\": must be an integer from 1 to 16384", result.Problems.Select(p => p.ToString()));
        Assert.Contains("output.name: is required", result.Problems.Select(p => p.ToString()));
    }

    [Fact]
    public void UnsupportedSchemaVersionIsTheOnlyProblemReported()
    {
        JsonObject manifest = TestPackages.ValidManifest();
        Apply(manifest, "schemaVersion=2");
        Apply(manifest, "input.width=0");

        ManifestLoadResult result = ModelManifest.Parse(TestPackages.ToBytes(manifest));

        ManifestProblem problem = Assert.Single(result.Problems);
        Assert.Equal("schemaVersion = 2: unsupported schema version; this runtime reads schema version 1", problem.ToString());
    }

    [Fact]
    public void DuplicatePropertyIsReported()
    {
        string json = TestPackages.ValidManifest().ToJsonString().Replace("\"precision\":\"fp32\"", "\"precision\":\"fp32\",\"precision\":\"int8\"", StringComparison.Ordinal);

        ManifestLoadResult result = ModelManifest.Parse(Encoding.UTF8.GetBytes(json));

        ManifestProblem problem = Assert.Single(result.Problems);
        Assert.Equal("model.precision", problem.Path);
        Assert.Equal("\"int8\"", problem.Found);
        Assert.Equal("duplicate property", problem.Requirement);
    }

    [Fact]
    public void MalformedJsonIsReportedWithLineAndPosition()
    {
        byte[] json = Encoding.UTF8.GetBytes("{\n  \"schemaVersion\": 1,\n  \"id\": \"x\",,\n}");

        ManifestLoadResult result = ModelManifest.Parse(json);

        ManifestProblem problem = Assert.Single(result.Problems);
        Assert.Equal("$", problem.Path);
        Assert.StartsWith("malformed JSON at line 3, position 13:", problem.Requirement, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", problem.Requirement, StringComparison.Ordinal);
    }

    [Fact]
    public void DocumentThatIsNotAnObjectIsRefused()
    {
        ManifestLoadResult result = ModelManifest.Parse("[1, 2]"u8);

        Assert.Equal("$ = [1, 2]: must be a JSON object", Assert.Single(result.Problems).ToString());
    }

    [Fact]
    public void ManifestWithByteOrderMarkIsAccepted()
    {
        byte[] json = [0xEF, 0xBB, 0xBF, .. TestPackages.ToBytes(TestPackages.ValidManifest())];

        Assert.True(ModelManifest.Parse(json).IsValid);
    }

    [Fact]
    public void OversizeManifestIsRefusedUnparsed()
    {
        byte[] json = new byte[ModelManifest.MaxSizeBytes + 1];

        ManifestProblem problem = Assert.Single(ModelManifest.Parse(json).Problems);

        Assert.Contains($"at most {ModelManifest.MaxSizeBytes} are allowed", problem.Requirement, StringComparison.Ordinal);
    }

    [Fact]
    public void GrayscaleManifestWithOneChannelIsValid()
    {
        JsonObject manifest = TestPackages.ValidManifest();
        Apply(manifest, "input.colorOrder=\"GRAY\"");
        Apply(manifest, "input.channels=1");
        Apply(manifest, "input.normalization.mean=[0.5]");
        Apply(manifest, "input.normalization.std=[0.25]");
        Apply(manifest, "input.layout=\"NHWC\"");

        ManifestLoadResult result = ModelManifest.Parse(TestPackages.ToBytes(manifest));

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(TensorLayout.Nhwc, result.Manifest.Input.Layout);
    }

    [Fact]
    public void EditorSetsTheModelHashAndKeepsEverythingElse()
    {
        JsonObject manifest = TestPackages.ValidManifest();
        Apply(manifest, "model.sha256=\"\"");
        string hash = TestPackages.Sha256Hex(TestPackages.ModelBytes);

        byte[] edited = ManifestEditor.WithModelSha256(TestPackages.ToBytes(manifest), hash);

        ManifestLoadResult result = ModelManifest.Parse(edited);
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(hash, result.Manifest.Model.Sha256);
        Assert.Contains("0.00392156862745098", Encoding.UTF8.GetString(edited), StringComparison.Ordinal);
        Assert.Equal("abc123", result.Manifest.Provenance!.Extra!["gitCommit"].GetString());
    }

    [Fact]
    public void EditorSetsClassLimitsAndKeepsEverythingElse()
    {
        JsonObject manifest = TestPackages.ValidManifest();
        ModelManifest before = ModelManifest.Parse(TestPackages.ToBytes(manifest)).Manifest!;
        int last = before.ClassCount - 1;

        byte[] edited = ManifestEditor.WithClassLimits(TestPackages.ToBytes(manifest), [new ClassLimits(last, 0.35, 17)]);

        ManifestLoadResult result = ModelManifest.Parse(edited);
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(0.35, result.Manifest.Classes[last].Threshold);
        Assert.Equal(17, result.Manifest.Classes[last].MinArea);
        Assert.Equal(before.Classes[last].Name, result.Manifest.Classes[last].Name);
        for (int c = 1; c < last; c++)
        {
            Assert.Equal(before.Classes[c].Threshold, result.Manifest.Classes[c].Threshold);
            Assert.Equal(before.Classes[c].MinArea, result.Manifest.Classes[c].MinArea);
        }

        Assert.Equal(before.Model.Sha256, result.Manifest.Model.Sha256);
        Assert.Equal("abc123", result.Manifest.Provenance!.Extra!["gitCommit"].GetString());
    }

    [Fact]
    public void EditorRefusesClassLimitsForAClassTheManifestLacks()
    {
        byte[] manifest = TestPackages.ToBytes(TestPackages.ValidManifest());

        FormatException refusal = Assert.Throws<FormatException>(() => ManifestEditor.WithClassLimits(manifest, [new ClassLimits(99, 0.5, 1)]));

        Assert.Contains("classes[99]", refusal.Message, StringComparison.Ordinal);
    }

    /// <summary>Applies "a.b[1].c=JSON" (set) or "a.b=&lt;delete&gt;" (remove) to the document.</summary>
    private static void Apply(JsonObject root, string edit)
    {
        int equals = edit.IndexOf('=', StringComparison.Ordinal);
        string path = edit[..equals];
        string value = edit[(equals + 1)..];
        string[] segments = path.Split('.');
        JsonNode parent = root;
        for (int i = 0; i < segments.Length - 1; i++)
        {
            parent = Step(parent, segments[i]);
        }

        string last = segments[^1];
        JsonNode? newValue = value == "<delete>" ? null : JsonNode.Parse(value);
        int bracket = last.IndexOf('[', StringComparison.Ordinal);
        if (bracket >= 0)
        {
            int index = int.Parse(last[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
            parent[last[..bracket]]![index] = newValue;
        }
        else if (newValue is null)
        {
            parent.AsObject().Remove(last);
        }
        else
        {
            parent[last] = newValue;
        }
    }

    private static JsonNode Step(JsonNode node, string segment)
    {
        int bracket = segment.IndexOf('[', StringComparison.Ordinal);
        if (bracket < 0)
        {
            return node[segment]!;
        }

        int index = int.Parse(segment[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
        return node[segment[..bracket]]![index]!;
    }
}
