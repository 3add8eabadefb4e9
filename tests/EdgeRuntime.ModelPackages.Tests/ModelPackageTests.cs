using EdgeRuntime.ModelPackages.Tests.Support;

namespace EdgeRuntime.ModelPackages.Tests;

public sealed class ModelPackageTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task OpenedPackageExposesAbsolutePathsAndTheManifest()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, folder);

        PackageLoadResult result = await ModelPackage.OpenAsync(relative, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Problems));
        ModelPackage package = result.Package;
        Assert.Equal(folder, package.DirectoryPath);
        Assert.Equal(Path.Combine(folder, TestPackages.ModelFileName), package.ModelPath);
        Assert.Equal(Path.Combine(folder, "manifest.json"), package.ManifestPath);
        Assert.Equal(Path.Combine(folder, "golden", "fail-001.png"), package.GetGoldenSamplePath(package.Manifest.GoldenSamples![0]));
        Assert.Equal(PackageSignatureState.Unsigned, package.SignatureState);
        Assert.Equal(["golden/fail-001.png", "manifest.json", TestPackages.ModelFileName], package.RelativeFiles);
        Assert.Equal(await File.ReadAllBytesAsync(package.ManifestPath), package.ManifestBytes.ToArray());
    }

    [Fact]
    public async Task TamperedModelFileIsRefusedWithHashMismatch()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        byte[] model = TestPackages.ModelBytes;
        model[^1] ^= 0x01;
        await File.WriteAllBytesAsync(Path.Combine(folder, TestPackages.ModelFileName), model);

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.ModelHashMismatch, problem.Kind);
        Assert.Contains(TestPackages.Sha256Hex(model), problem.Message, StringComparison.Ordinal);
        ModelPackageException thrown = Assert.Throws<ModelPackageException>(result.GetPackageOrThrow);
        Assert.Same(result.Problems, thrown.Problems);
    }

    [Fact]
    public async Task MissingModelAndGoldenFilesAreBothReported()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        File.Delete(Path.Combine(folder, TestPackages.ModelFileName));
        File.Delete(Path.Combine(folder, "golden", "fail-001.png"));

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);

        Assert.Equal([PackageProblemKind.ModelFileMissing, PackageProblemKind.GoldenSampleMissing], result.Problems.Select(p => p.Kind));
        Assert.Contains("goldenSamples[0].image", result.Problems[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidManifestReportsEveryProblemAsManifestInvalid()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"), manifest =>
        {
            manifest["input"]!["width"] = -1;
            manifest["classes"]![1]!["threshold"] = 2;
        });

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);

        Assert.Equal(2, result.Problems.Count);
        Assert.All(result.Problems, p => Assert.Equal(PackageProblemKind.ManifestInvalid, p.Kind));
        Assert.Equal("manifest.json: classes[1].threshold = 2: must be in (0, 1)", result.Problems[1].Message);
    }

    [Fact]
    public async Task FolderWithoutManifestIsReported()
    {
        Directory.CreateDirectory(_temp.Combine("empty"));

        PackageLoadResult missingManifest = await ModelPackage.OpenAsync(_temp.Combine("empty"), PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);
        PackageLoadResult missingFolder = await ModelPackage.OpenAsync(_temp.Combine("nowhere"), PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);

        Assert.Equal(PackageProblemKind.ManifestMissing, Assert.Single(missingManifest.Problems).Kind);
        Assert.Equal(PackageProblemKind.PackageNotFound, Assert.Single(missingFolder.Problems).Kind);
    }

    [Fact]
    public async Task VerifiedModelBytesAreRefusedWhenTheFileChangedAfterOpening()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        ModelPackage package = (await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None)).GetPackageOrThrow();

        byte[] verified = await package.ReadVerifiedModelAsync(CancellationToken.None);
        await File.WriteAllBytesAsync(package.ModelPath, [.. verified, 0]);
        ModelPackageException ex = await Assert.ThrowsAsync<ModelPackageException>(() => package.ReadVerifiedModelAsync(CancellationToken.None));

        Assert.Equal(TestPackages.ModelBytes, verified);
        Assert.Equal(PackageProblemKind.ModelHashMismatch, Assert.Single(ex.Problems).Kind);
    }

    [Fact]
    public async Task UpdatingTheHashFixesAFreshManifestAndRemovesAStaleSignature()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"), manifest => manifest["model"]!["sha256"] = "");
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.sig"), "{}");

        ModelHashUpdate first = await PackageAuthoring.UpdateModelHashAsync(folder, CancellationToken.None);
        ModelHashUpdate second = await PackageAuthoring.UpdateModelHashAsync(folder, CancellationToken.None);
        PackageLoadResult opened = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);

        Assert.Equal(new ModelHashUpdate(TestPackages.Sha256Hex(TestPackages.ModelBytes), ManifestChanged: true, SignatureRemoved: true), first);
        Assert.Equal(first with { ManifestChanged = false, SignatureRemoved = false }, second);
        Assert.True(opened.Succeeded, string.Join(Environment.NewLine, opened.Problems));
        Assert.False(File.Exists(Path.Combine(folder, "manifest.sig")));
        Assert.Equal(["golden", "golden/fail-001.png", "manifest.json", TestPackages.ModelFileName],
            Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(folder, p)).Order(StringComparer.Ordinal));
    }
}
