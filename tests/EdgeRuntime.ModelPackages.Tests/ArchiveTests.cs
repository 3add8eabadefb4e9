using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using EdgeRuntime.ModelPackages.Archive;
using EdgeRuntime.ModelPackages.Signing;
using EdgeRuntime.ModelPackages.Tests.Support;

namespace EdgeRuntime.ModelPackages.Tests;

public sealed class ArchiveTests : IDisposable
{
    private static readonly ArchiveExtractionOptions s_noSignatureCheck = new() { Verification = PackageVerificationOptions.NoSignatureCheck };

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task PackageSurvivesTheRoundTripThroughAnArchive()
    {
        string source = TestPackages.Create(_temp.Combine("source"));
        string archive = _temp.Combine("out", "tiny.edgepkg");

        PackageLoadResult created = await PackageArchive.CreateAsync(source, archive, CancellationToken.None);
        PackageLoadResult extracted = await PackageArchive.ExtractAsync(archive, _temp.Combine("installed", "v1"), s_noSignatureCheck, CancellationToken.None);

        Assert.True(created.Succeeded, string.Join(Environment.NewLine, created.Problems));
        Assert.True(extracted.Succeeded, string.Join(Environment.NewLine, extracted.Problems));
        ModelPackage package = extracted.Package;
        Assert.Equal(_temp.Combine("installed", "v1"), package.DirectoryPath);
        Assert.True(File.Exists(package.ModelPath));
        foreach (string file in created.Package!.RelativeFiles)
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, file)), await File.ReadAllBytesAsync(Path.Combine(package.DirectoryPath, file)));
        }

        Assert.Equal(["golden/fail-001.png", "manifest.json", TestPackages.ModelFileName], ArchiveEntryNames(archive));
        Assert.Equal(["v1"], Directory.GetFileSystemEntries(_temp.Combine("installed")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task CreatingTheSameArchiveTwiceGivesTheSameBytes()
    {
        string source = TestPackages.Create(_temp.Combine("source"));
        await PackageArchive.CreateAsync(source, _temp.Combine("first.edgepkg"), CancellationToken.None);
        File.SetLastWriteTimeUtc(Path.Combine(source, TestPackages.ModelFileName), new DateTime(2031, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        await PackageArchive.CreateAsync(source, _temp.Combine("second.edgepkg"), CancellationToken.None);

        Assert.Equal(await File.ReadAllBytesAsync(_temp.Combine("first.edgepkg")), await File.ReadAllBytesAsync(_temp.Combine("second.edgepkg")));
    }

    [Fact]
    public async Task InvalidPackageIsNotArchived()
    {
        string source = TestPackages.Create(_temp.Combine("source"), manifest => manifest["input"]!["dtype"] = "uint8");

        PackageLoadResult result = await PackageArchive.CreateAsync(source, _temp.Combine("x.edgepkg"), CancellationToken.None);

        Assert.Equal(PackageProblemKind.ManifestInvalid, Assert.Single(result.Problems).Kind);
        Assert.False(File.Exists(_temp.Combine("x.edgepkg")));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(300)]
    [InlineData(-100)]
    [InlineData(-8)]
    [InlineData(-1)]
    public async Task TruncatedArchiveIsRefusedAndLeavesNothingBehind(int cut)
    {
        string archive = await CreateArchiveAsync();
        byte[] bytes = await File.ReadAllBytesAsync(archive);
        int length = cut > 0 ? cut : bytes.Length + cut;
        await File.WriteAllBytesAsync(archive, bytes[..length]);

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("installed", "v1"), s_noSignatureCheck, CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.ArchiveTruncated, problem.Kind);
        Assert.Contains($"truncated at byte {length}", problem.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Combine("installed")));
    }

    [Fact]
    public async Task CorruptedCompressedDataIsRefused()
    {
        string archive = await CreateArchiveAsync();
        byte[] bytes = await File.ReadAllBytesAsync(archive);
        bytes[bytes.Length / 2] ^= 0x55;
        await File.WriteAllBytesAsync(archive, bytes);

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("installed", "v1"), s_noSignatureCheck, CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.ArchiveCorrupt, problem.Kind);
        Assert.Contains("gzip stream corrupt", problem.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Combine("installed")));
    }

    [Fact]
    public async Task FileThatIsNotGzipIsRefusedAsCorrupt()
    {
        await File.WriteAllTextAsync(_temp.Combine("model.edgepkg"), "this is a text file, not a package");

        PackageLoadResult result = await PackageArchive.ExtractAsync(_temp.Combine("model.edgepkg"), _temp.Combine("v1"), s_noSignatureCheck, CancellationToken.None);

        Assert.Equal(PackageProblemKind.ArchiveCorrupt, Assert.Single(result.Problems).Kind);
    }

    [Theory]
    [InlineData("../escaped.txt")]
    [InlineData("golden/../../escaped.txt")]
    [InlineData("/tmp/escaped.txt")]
    [InlineData("golden\\..\\..\\escaped.txt")]
    [InlineData("C:escaped.txt")]
    public async Task EntryThatCouldLeaveTheFolderIsRefused(string name)
    {
        string archive = await WriteCraftedArchiveAsync(ValidEntries().Append((name, TarEntryType.RegularFile, "x"u8.ToArray(), null)));

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("installed", "v1"), s_noSignatureCheck, CancellationToken.None);

        Assert.Equal(PackageProblemKind.ArchiveUnsafeEntry, Assert.Single(result.Problems).Kind);
        Assert.False(File.Exists(_temp.Combine("escaped.txt")));
        Assert.False(File.Exists("/tmp/escaped.txt"));
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Combine("installed")));
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink)]
    [InlineData(TarEntryType.HardLink)]
    [InlineData(TarEntryType.Fifo)]
    public async Task LinksAndSpecialFilesAreRefused(TarEntryType type)
    {
        string archive = await WriteCraftedArchiveAsync(ValidEntries().Append(("golden/pass-001.png", type, null, "/etc/passwd")));

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("v1"), s_noSignatureCheck, CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.ArchiveUnsafeEntry, problem.Kind);
        Assert.Contains(type.ToString(), problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateEntryIsRefused()
    {
        byte[] model = TestPackages.ModelBytes;
        string archive = await WriteCraftedArchiveAsync(ValidEntries().Append((TestPackages.ModelFileName, TarEntryType.RegularFile, model, null)));

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("v1"), s_noSignatureCheck, CancellationToken.None);

        Assert.Equal(PackageProblemKind.ArchiveDuplicateEntry, Assert.Single(result.Problems).Kind);
    }

    [Theory]
    [InlineData("notes.txt")]
    [InlineData("golden/extra.png")]
    [InlineData("training/run.log")]
    public async Task EntryTheManifestDoesNotNameIsRefused(string name)
    {
        string archive = await WriteCraftedArchiveAsync(ValidEntries().Append((name, TarEntryType.RegularFile, "x"u8.ToArray(), null)));

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("v1"), s_noSignatureCheck, CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.ArchiveUnexpectedEntry, problem.Kind);
        Assert.Contains(name, problem.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.Combine("v1")));
    }

    [Fact]
    public async Task ArchiveOverTheSizeLimitIsRefused()
    {
        string archive = await CreateArchiveAsync();
        ArchiveExtractionOptions options = new() { Verification = PackageVerificationOptions.NoSignatureCheck, MaxTotalBytes = 256 };

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("v1"), options, CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.ArchiveTooLarge, problem.Kind);
        Assert.Contains("256 bytes", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArchiveWithTooManyEntriesIsRefused()
    {
        string archive = await CreateArchiveAsync();
        ArchiveExtractionOptions options = new() { Verification = PackageVerificationOptions.NoSignatureCheck, MaxEntries = 2 };

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("v1"), options, CancellationToken.None);

        Assert.Equal(PackageProblemKind.ArchiveTooLarge, Assert.Single(result.Problems).Kind);
    }

    [Fact]
    public async Task ExtractingOverAnExistingFolderIsRefused()
    {
        string archive = await CreateArchiveAsync();
        Directory.CreateDirectory(_temp.Combine("v1"));
        await File.WriteAllTextAsync(_temp.Combine("v1", "keep.txt"), "untouched");

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("v1"), s_noSignatureCheck, CancellationToken.None);

        Assert.Equal(PackageProblemKind.DestinationExists, Assert.Single(result.Problems).Kind);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(_temp.Combine("v1")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ArchivedModelThatDoesNotMatchItsManifestIsRefused()
    {
        byte[] model = TestPackages.ModelBytes;
        model[100] ^= 0x01;
        List<(string, TarEntryType, byte[]?, string?)> entries = ValidEntries().ToList();
        entries[2] = (TestPackages.ModelFileName, TarEntryType.RegularFile, model, null);
        string archive = await WriteCraftedArchiveAsync(entries);

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("v1"), s_noSignatureCheck, CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.ModelHashMismatch, problem.Kind);
        Assert.False(Directory.Exists(_temp.Combine("v1")));
    }

    [Fact]
    public async Task ArchiveMadeByGnuTarIsAccepted()
    {
        string source = TestPackages.Create(_temp.Combine("source"));
        string archive = _temp.Combine("by-tar.edgepkg");
        ProcessStartInfo start = new("tar") { ArgumentList = { "-czf", archive, "-C", source, "." }, RedirectStandardError = true };
        using (Process tar = Process.Start(start)!)
        {
            await tar.WaitForExitAsync();
            Assert.Equal(0, tar.ExitCode);
        }

        PackageLoadResult result = await PackageArchive.ExtractAsync(archive, _temp.Combine("v1"), s_noSignatureCheck, CancellationToken.None);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Problems));
    }

    [Fact]
    public async Task SigningAnArchiveAddsASignatureTheDeviceAccepts()
    {
        using PackageSigningKey key = PackageSigningKey.Generate();
        TrustedKeys trusted = TrustedKeys.FromPem([("key", key.ExportPublicKeyPem())]);
        ArchiveExtractionOptions requireSignature = new() { Verification = PackageVerificationOptions.RequireSignatureFrom(trusted) };
        string archive = await CreateArchiveAsync();

        PackageLoadResult unsigned = await PackageArchive.ExtractAsync(archive, _temp.Combine("unsigned"), requireSignature, CancellationToken.None);
        IReadOnlyList<PackageProblem> signing = await PackageAuthoring.SignArchiveAsync(archive, key, CancellationToken.None);
        PackageLoadResult signed = await PackageArchive.ExtractAsync(archive, _temp.Combine("signed"), requireSignature, CancellationToken.None);

        Assert.Equal(PackageProblemKind.SignatureMissing, Assert.Single(unsigned.Problems).Kind);
        Assert.Empty(signing);
        Assert.Equal(PackageSignatureState.Verified, signed.GetPackageOrThrow().SignatureState);
        Assert.Contains("manifest.sig", ArchiveEntryNames(archive));
    }

    private async Task<string> CreateArchiveAsync()
    {
        string source = TestPackages.Create(_temp.Combine("source"));
        string archive = _temp.Combine("tiny.edgepkg");
        (await PackageArchive.CreateAsync(source, archive, CancellationToken.None)).GetPackageOrThrow();
        Directory.CreateDirectory(_temp.Combine("installed"));
        return archive;
    }

    private static IEnumerable<(string Name, TarEntryType Type, byte[]? Data, string? Link)> ValidEntries() =>
    [
        ("golden/fail-001.png", TarEntryType.RegularFile, TestPackages.GoldenBytes, null),
        ("manifest.json", TarEntryType.RegularFile, TestPackages.ToBytes(TestPackages.ValidManifest()), null),
        (TestPackages.ModelFileName, TarEntryType.RegularFile, TestPackages.ModelBytes, null),
    ];

    private async Task<string> WriteCraftedArchiveAsync(IEnumerable<(string Name, TarEntryType Type, byte[]? Data, string? Link)> entries)
    {
        string path = _temp.Combine("crafted.edgepkg");
        await using (FileStream file = File.Create(path))
        await using (GZipStream gzip = new(file, CompressionLevel.Fastest))
        await using (TarWriter writer = new(gzip, TarEntryFormat.Gnu))
        {
            foreach ((string name, TarEntryType type, byte[]? data, string? link) in entries)
            {
                GnuTarEntry entry = new(type, name);
                if (type is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                {
                    entry.LinkName = link!;
                }

                if (data is not null)
                {
                    entry.DataStream = new MemoryStream(data);
                }

                await writer.WriteEntryAsync(entry);
            }
        }

        Directory.CreateDirectory(_temp.Combine("installed"));
        return path;
    }

    private static List<string> ArchiveEntryNames(string archive)
    {
        using FileStream file = File.OpenRead(archive);
        using GZipStream gzip = new(file, CompressionMode.Decompress);
        using TarReader reader = new(gzip);
        List<string> names = [];
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return names;
    }
}
