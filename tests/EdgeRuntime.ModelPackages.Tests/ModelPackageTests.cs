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
    public async Task TamperedGoldenImageIsRefusedWithHashMismatchNamingTheImage()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        byte[] tampered = [.. TestPackages.GoldenBytes, 0];
        await File.WriteAllBytesAsync(Path.Combine(folder, "golden", "fail-001.png"), tampered);

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.GoldenSampleHashMismatch, problem.Kind);
        Assert.Equal(
            $"golden/fail-001.png has SHA-256 {TestPackages.Sha256Hex(tampered)} but goldenSamples[0].sha256 in manifest.json is {TestPackages.Sha256Hex(TestPackages.GoldenBytes)}: the golden image changed after the manifest was written",
            problem.Message);
    }

    [Fact]
    public async Task VerifiedGoldenBytesAreRefusedWhenTheFileChangedAfterOpening()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        ModelPackage package = (await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None)).GetPackageOrThrow();
        Manifest.GoldenSampleSpec sample = package.Manifest.GoldenSamples![0];

        byte[] verified = await package.ReadVerifiedGoldenSampleAsync(sample, CancellationToken.None);
        await File.WriteAllBytesAsync(package.GetGoldenSamplePath(sample), [.. verified, 0]);
        ModelPackageException ex = await Assert.ThrowsAsync<ModelPackageException>(() => package.ReadVerifiedGoldenSampleAsync(sample, CancellationToken.None));

        Assert.Equal(TestPackages.GoldenBytes, verified);
        Assert.Equal(PackageProblemKind.GoldenSampleHashMismatch, Assert.Single(ex.Problems).Kind);
        Assert.Contains("golden/fail-001.png", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SettingGoldenSamplesCopiesTheImagesAndRecordsTheirHashesVerdictsAndClasses()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.sig"), "{}");
        string images = _temp.Combine("images");
        Directory.CreateDirectory(images);
        await File.WriteAllBytesAsync(Path.Combine(images, "a.png"), [1, 2, 3]);
        await File.WriteAllBytesAsync(Path.Combine(images, "b.png"), [4, 5]);
        await File.WriteAllTextAsync(Path.Combine(images, "notes.txt"), "not an image");
        string labels = _temp.Combine("labels.jsonl");
        await File.WriteAllLinesAsync(labels,
        [
            """{"file":"a.png","verdict":"FAIL","surface":"x","defects":[{"class":2,"bbox":[1,2,3,4]},{"class":"linear"},{"class":2}]}""",
            """{"file":"b.png","verdict":"PASS","defects":[]}""",
            """{"file":"unused.png","verdict":"PASS"}""",
        ]);

        GoldenSamplesUpdate update = await PackageAuthoring.SetGoldenSamplesAsync(folder, images, labels, CancellationToken.None);
        PackageLoadResult opened = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, CancellationToken.None);

        Assert.True(opened.Succeeded, string.Join(Environment.NewLine, opened.Problems));
        Assert.True(update.SignatureRemoved);
        IReadOnlyList<Manifest.GoldenSampleSpec> samples = opened.Package.Manifest.GoldenSamples!;
        Assert.Equal(["golden/a.png", "golden/b.png"], samples.Select(s => s.Image));
        Assert.Equal([TestPackages.Sha256Hex([1, 2, 3]), TestPackages.Sha256Hex([4, 5])], samples.Select(s => s.Sha256));
        Assert.Equal([Manifest.GoldenVerdict.Fail, Manifest.GoldenVerdict.Pass], samples.Select(s => s.Verdict));
        Assert.Equal(["linear", "blob"], samples[0].Classes);
        Assert.Null(samples[1].Classes);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(folder, "golden", "a.png")));
    }

    [Fact]
    public async Task SettingGoldenSamplesReportsEveryProblemAndWritesNothing()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        byte[] manifestBefore = await File.ReadAllBytesAsync(Path.Combine(folder, "manifest.json"));
        string images = _temp.Combine("images");
        Directory.CreateDirectory(images);
        foreach (string name in (string[])["a.png", "b.png", "c.png", "d.png"])
        {
            await File.WriteAllBytesAsync(Path.Combine(images, name), [1]);
        }

        string labels = _temp.Combine("labels.jsonl");
        await File.WriteAllLinesAsync(labels,
        [
            """{"file":"a.png","verdict":"FAIL","defects":[{"class":7}]}""",
            """{"file":"b.png","verdict":"PASS","defects":[{"class":1}]}""",
            """{"file":"c.png","verdict":"MAYBE"}""",
        ]);

        ModelPackageException ex = await Assert.ThrowsAsync<ModelPackageException>(
            () => PackageAuthoring.SetGoldenSamplesAsync(folder, images, labels, CancellationToken.None));

        Assert.Equal(
            [
                $"{labels} line 1: defect {{\"class\":7}}: \"class\" must be a defect class of model tiny-segmenter: 1 (linear), 2 (blob)",
                $"{labels} line 2: verdict PASS contradicts its 1 defect class(es)",
                $"{labels} line 3: verdict = \"MAYBE\": must be PASS or FAIL",
                $"{Path.Combine(images, "a.png")} has no line in {labels}: every golden image needs its expected verdict",
                $"{Path.Combine(images, "b.png")} has no line in {labels}: every golden image needs its expected verdict",
                $"{Path.Combine(images, "c.png")} has no line in {labels}: every golden image needs its expected verdict",
                $"{Path.Combine(images, "d.png")} has no line in {labels}: every golden image needs its expected verdict",
            ],
            ex.Problems.Select(p => p.Message));
        Assert.All(ex.Problems, p => Assert.Equal(PackageProblemKind.GoldenLabelsInvalid, p.Kind));
        Assert.Equal(manifestBefore, await File.ReadAllBytesAsync(Path.Combine(folder, "manifest.json")));
        Assert.False(File.Exists(Path.Combine(folder, "golden", "a.png")));
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
