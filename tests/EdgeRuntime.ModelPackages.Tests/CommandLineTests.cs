using System.CommandLine;
using System.Text.Json.Nodes;
using EdgeModels.Cli.Commands;
using EdgeRuntime.ModelPackages.Tests.Support;

namespace EdgeRuntime.ModelPackages.Tests;

/// <summary>The edge-models package commands, run in process against the real tiny ONNX model.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task ValidateAcceptsAPackageWhoseModelMatchesItsManifest()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));

        CommandRun run = await RunAsync("validate", folder);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("graph input  'input' float32 [?, 3, 32, 32]", run.Output, StringComparison.Ordinal);
        Assert.Contains("zero-input run: [1, 3, 32, 32] -> [1, 3, 32, 32]", run.Output, StringComparison.Ordinal);
        Assert.Contains("OK tiny-segmenter 1.2.3-rc.1+build.7", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateReportsEveryDisagreementBetweenManifestAndModel()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"), manifest =>
        {
            manifest["input"]!["width"] = 64;
            manifest["tiling"]!["tileWidth"] = 64;
            ((JsonArray)manifest["classes"]!).Add(JsonNode.Parse(
                """{ "index": 3, "name": "pit", "color": "#ffff00", "threshold": 0.5, "minArea": 3 }"""));
        });

        CommandRun run = await RunAsync("validate", Path.Combine(folder, "manifest.json"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("4 problems", run.Error, StringComparison.Ordinal);
        Assert.Contains("input 'input' dimension 3 (width) is 32 in the graph ([?, 3, 32, 32]); input.width = 64", run.Error, StringComparison.Ordinal);
        Assert.Contains("output 'logits' dimension 1 (classes (K)) is 3 in the graph ([?, 3, 32, 32]); the manifest lists 4 classes", run.Error, StringComparison.Ordinal);
        Assert.Contains("output 'logits' dimension 3 (width) is 32 in the graph ([?, 3, 32, 32]); input.width = 64", run.Error, StringComparison.Ordinal);
        Assert.Contains("running tiny-segmenter.onnx on a zero input of shape [1, 3, 32, 64] failed", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateListsManifestProblemsAndSaysTheGraphWasNotChecked()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"), manifest =>
        {
            manifest["input"]!["colorOrder"] = "YUV";
            manifest["classes"]![2]!["minArea"] = -5;
        });

        CommandRun run = await RunAsync("validate", folder);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("manifest.json: input.colorOrder = \"YUV\": must be one of: RGB, BGR, GRAY", run.Error, StringComparison.Ordinal);
        Assert.Contains("manifest.json: classes[2].minArea = -5: must be an integer >= 0", run.Error, StringComparison.Ordinal);
        Assert.Contains("the model graph was not checked", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateReportsAModelFileOnnxRuntimeCannotLoad()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        await File.WriteAllTextAsync(Path.Combine(folder, TestPackages.ModelFileName), "not a protobuf");
        await RunAsync("package", folder, "--update-hash", "--out", _temp.Combine("unused.edgepkg"));

        CommandRun run = await RunAsync("validate", folder);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("[GraphMismatch] tiny-segmenter.onnx cannot be loaded by ONNX Runtime", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeygenPackageSignAndVerifyWorkTogether()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"), manifest => manifest["model"]!["sha256"] = "0000");
        await File.WriteAllTextAsync(Path.Combine(folder, "README.md"), "not packaged");
        string keys = _temp.Combine("keys");
        string archive = _temp.Combine("dist", "tiny.edgepkg");

        CommandRun keygen = await RunAsync("keygen", "--private-key", _temp.Combine("signing.pem"), "--public-key", Path.Combine(keys, "signing.pem"));
        CommandRun package = await RunAsync("package", folder, "--update-hash", "--out", archive);
        CommandRun unsignedVerify = await RunAsync("verify", archive, "--trusted-keys", keys, "--require-signature");
        CommandRun sign = await RunAsync("sign", archive, "--key", _temp.Combine("signing.pem"));
        CommandRun verify = await RunAsync("verify", archive, "--trusted-keys", keys, "--require-signature");

        Assert.Equal(0, keygen.ExitCode);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_temp.Combine("signing.pem")));
        }

        Assert.Equal(0, package.ExitCode);
        Assert.Contains($"model.sha256 = {TestPackages.Sha256Hex(TestPackages.ModelBytes)} (updated)", package.Output, StringComparison.Ordinal);
        Assert.Contains("README.md is not part of the package", package.Error, StringComparison.Ordinal);
        Assert.Equal(1, unsignedVerify.ExitCode);
        Assert.Contains("[SignatureMissing]", unsignedVerify.Error, StringComparison.Ordinal);
        Assert.Equal(0, sign.ExitCode);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("signature verified (key ", verify.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(archive)!, ".*"));
    }

    [Fact]
    public async Task PackageWithGoldenAndLabelsRecordsTheGoldenSamplesBeforeWritingTheArchive()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        string images = _temp.Combine("golden-source");
        Directory.CreateDirectory(images);
        await File.WriteAllBytesAsync(Path.Combine(images, "0001.png"), [9, 9, 9]);
        await File.WriteAllTextAsync(_temp.Combine("labels.jsonl"), """{"file":"0001.png","verdict":"FAIL","defects":[{"class":2}]}""" + "\n");
        string archive = _temp.Combine("dist", "tiny.edgepkg");

        CommandRun run = await RunAsync("package", folder, "--golden", images, "--labels", _temp.Combine("labels.jsonl"), "--out", archive);
        CommandRun verify = await RunAsync("verify", archive);
        CommandRun halfAsked = await RunAsync("package", folder, "--golden", images, "--out", archive);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("goldenSamples = 1 image(s)", run.Output, StringComparison.Ordinal);
        Assert.Contains("  golden/0001.png", run.Output, StringComparison.Ordinal);
        Assert.Contains("golden/fail-001.png is not part of the package", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, verify.ExitCode);
        JsonNode golden = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "manifest.json")))!["goldenSamples"]![0]!;
        Assert.Equal(TestPackages.Sha256Hex([9, 9, 9]), (string?)golden["sha256"]);
        Assert.Equal("blob", (string?)golden["classes"]![0]);
        Assert.Equal(2, halfAsked.ExitCode);
    }

    [Fact]
    public async Task VerifyFailsWithTheReasonForAPackageSignedByAnotherKey()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        await RunAsync("keygen", "--private-key", _temp.Combine("a.pem"), "--public-key", _temp.Combine("a-public", "a.pem"));
        await RunAsync("keygen", "--private-key", _temp.Combine("b.pem"), "--public-key", _temp.Combine("b-public", "b.pem"));
        await RunAsync("sign", folder, "--key", _temp.Combine("a.pem"));

        CommandRun trusted = await RunAsync("verify", folder, "--trusted-keys", _temp.Combine("a-public"));
        CommandRun untrusted = await RunAsync("verify", folder, "--trusted-keys", _temp.Combine("b-public"));

        Assert.Equal(0, trusted.ExitCode);
        Assert.Equal(1, untrusted.ExitCode);
        Assert.Contains("[SignatureKeyUntrusted]", untrusted.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequiringASignatureWithoutTrustedKeysIsAUsageError()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));

        CommandRun run = await RunAsync("verify", folder, "--require-signature");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--require-signature needs --trusted-keys", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeygenRefusesToOverwriteAKeyWithoutForce()
    {
        await File.WriteAllTextAsync(_temp.Combine("existing.pem"), "keep me");

        CommandRun run = await RunAsync("keygen", "--private-key", _temp.Combine("existing.pem"), "--public-key", _temp.Combine("public.pem"));

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("keep me", await File.ReadAllTextAsync(_temp.Combine("existing.pem")));
    }

    private static async Task<CommandRun> RunAsync(params string[] arguments)
    {
        RootCommand root = new("edge-models under test")
        {
            ValidateCommand.Create(), PackageCommand.Create(), KeygenCommand.Create(), SignCommand.Create(), VerifyCommand.Create(),
        };
        using StringWriter output = new();
        using StringWriter error = new();
        int exitCode = await root.Parse(arguments).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, CancellationToken.None);
        return new CommandRun(exitCode, output.ToString(), error.ToString());
    }

    private sealed record CommandRun(int ExitCode, string Output, string Error);
}
