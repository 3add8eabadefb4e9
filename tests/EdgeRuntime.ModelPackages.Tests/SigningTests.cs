using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeRuntime.ModelPackages.Signing;
using EdgeRuntime.ModelPackages.Tests.Support;

namespace EdgeRuntime.ModelPackages.Tests;

public sealed class SigningTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly PackageSigningKey _key = PackageSigningKey.Generate();

    public void Dispose()
    {
        _key.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task SignedPackageVerifiesWithTheTrustedKey()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));

        PackageLoadResult signed = await PackageAuthoring.SignDirectoryAsync(folder, _key, CancellationToken.None);
        PackageLoadResult opened = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.RequireSignatureFrom(Trust(_key)), CancellationToken.None);

        Assert.True(signed.Succeeded, string.Join(Environment.NewLine, signed.Problems));
        Assert.True(opened.Succeeded, string.Join(Environment.NewLine, opened.Problems));
        Assert.Equal(PackageSignatureState.Verified, opened.Package.SignatureState);
        Assert.Equal(_key.KeyId, opened.Package.SignerKeyId);
        JsonNode signature = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "manifest.sig")))!;
        Assert.Equal("ECDSA-P256-SHA256", (string?)signature["algorithm"]);
        Assert.Equal(64, Convert.FromBase64String((string)signature["signature"]!).Length);
    }

    [Fact]
    public void KeyIdIsTheStartOfTheSha256OfTheSubjectPublicKeyInfo()
    {
        string pem = _key.ExportPublicKeyPem();
        PemFields fields = PemEncoding.Find(pem);
        byte[] der = Convert.FromBase64String(pem[fields.Base64Data]);

        string expected = Convert.ToHexStringLower(SHA256.HashData(der))[..16];

        Assert.Equal("PUBLIC KEY", pem[fields.Label]);
        Assert.Equal(expected, _key.KeyId);
        Assert.Equal([expected], Trust(_key).KeyIds);
    }

    [Fact]
    public async Task SignatureFromAnUnknownKeyIsRefused()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        await PackageAuthoring.SignDirectoryAsync(folder, _key, CancellationToken.None);
        using PackageSigningKey other = PackageSigningKey.Generate();

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.VerifyIfSigned(Trust(other)), CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.SignatureKeyUntrusted, problem.Kind);
        Assert.Contains(_key.KeyId, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManifestEditedAfterSigningIsRefusedWithInvalidSignature()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        await PackageAuthoring.SignDirectoryAsync(folder, _key, CancellationToken.None);
        string manifestPath = Path.Combine(folder, "manifest.json");
        string edited = (await File.ReadAllTextAsync(manifestPath)).Replace("\"threshold\":0.5", "\"threshold\":0.9", StringComparison.Ordinal);
        await File.WriteAllTextAsync(manifestPath, edited);

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.RequireSignatureFrom(Trust(_key)), CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.SignatureInvalid, problem.Kind);
        Assert.Contains("changed after it was signed", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlteredSignatureBytesAreRefusedWithInvalidSignature()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        await PackageAuthoring.SignDirectoryAsync(folder, _key, CancellationToken.None);
        string signaturePath = Path.Combine(folder, "manifest.sig");
        JsonNode signature = JsonNode.Parse(await File.ReadAllTextAsync(signaturePath))!;
        byte[] bytes = Convert.FromBase64String((string)signature["signature"]!);
        bytes[10] ^= 0x40;
        signature["signature"] = Convert.ToBase64String(bytes);
        await File.WriteAllTextAsync(signaturePath, signature.ToJsonString());

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.RequireSignatureFrom(Trust(_key)), CancellationToken.None);

        Assert.Equal(PackageProblemKind.SignatureInvalid, Assert.Single(result.Problems).Kind);
    }

    [Theory]
    [InlineData("not json", "not a signature document")]
    [InlineData("{\"algorithm\":\"RSA-SHA256\",\"keyId\":\"0123456789abcdef\",\"signature\":\"AA==\"}", "must be \"ECDSA-P256-SHA256\"")]
    [InlineData("{\"algorithm\":\"ECDSA-P256-SHA256\",\"keyId\":\"xyz\",\"signature\":\"AA==\"}", "16 lowercase hex digits")]
    [InlineData("{\"algorithm\":\"ECDSA-P256-SHA256\",\"keyId\":\"0123456789abcdef\",\"signature\":\"AA==\"}", "64-byte IEEE P1363")]
    [InlineData("{\"algorithm\":\"ECDSA-P256-SHA256\",\"keyId\":\"0123456789abcdef\"}", "not a signature document")]
    public async Task MalformedSignatureFileIsRefusedAsMalformed(string contents, string expectedFragment)
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.sig"), contents);

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.VerifyIfSigned(Trust(_key)), CancellationToken.None);

        PackageProblem problem = Assert.Single(result.Problems);
        Assert.Equal(PackageProblemKind.SignatureMalformed, problem.Kind);
        Assert.Contains(expectedFragment, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingSignatureIsRefusedOnlyWhenRequired()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));

        PackageLoadResult required = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.RequireSignatureFrom(Trust(_key)), CancellationToken.None);
        PackageLoadResult optional = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.VerifyIfSigned(Trust(_key)), CancellationToken.None);

        Assert.Equal(PackageProblemKind.SignatureMissing, Assert.Single(required.Problems).Kind);
        Assert.Equal(PackageSignatureState.Unsigned, optional.Package!.SignatureState);
    }

    [Fact]
    public async Task TamperedModelWithAValidSignatureIsRefusedWithHashMismatch()
    {
        string folder = TestPackages.Create(_temp.Combine("pkg"));
        await PackageAuthoring.SignDirectoryAsync(folder, _key, CancellationToken.None);
        byte[] model = TestPackages.ModelBytes;
        model[model.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(Path.Combine(folder, TestPackages.ModelFileName), model);

        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.RequireSignatureFrom(Trust(_key)), CancellationToken.None);

        Assert.Equal(PackageProblemKind.ModelHashMismatch, Assert.Single(result.Problems).Kind);
    }

    [Fact]
    public async Task KeysMadeByOpensslSignAndVerify()
    {
        string privatePath = _temp.Combine("openssl-private.pem");
        string keysFolder = _temp.Combine("trusted");
        Directory.CreateDirectory(keysFolder);
        await RunOpensslAsync("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", privatePath);
        await RunOpensslAsync("pkey", "-in", privatePath, "-pubout", "-out", Path.Combine(keysFolder, "line-3.pem"));
        string folder = TestPackages.Create(_temp.Combine("pkg"));

        using PackageSigningKey key = await PackageSigningKey.LoadAsync(privatePath, CancellationToken.None);
        await PackageAuthoring.SignDirectoryAsync(folder, key, CancellationToken.None);
        TrustedKeys trusted = await TrustedKeys.LoadDirectoryAsync(keysFolder, CancellationToken.None);
        PackageLoadResult result = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.RequireSignatureFrom(trusted), CancellationToken.None);

        Assert.Equal(PackageSignatureState.Verified, result.GetPackageOrThrow().SignatureState);
        Assert.Equal(key.KeyId, result.Package!.SignerKeyId);
    }

    [Fact]
    public async Task TrustedKeyFolderWithABadKeyIsRefusedNamingEveryBadFile()
    {
        string keysFolder = _temp.Combine("trusted");
        Directory.CreateDirectory(keysFolder);
        await File.WriteAllTextAsync(Path.Combine(keysFolder, "good.pem"), _key.ExportPublicKeyPem());
        await File.WriteAllTextAsync(Path.Combine(keysFolder, "private.pem"), _key.ExportPrivateKeyPem());
        using (ECDsa p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384))
        {
            await File.WriteAllTextAsync(Path.Combine(keysFolder, "p384.pem"), p384.ExportSubjectPublicKeyInfoPem());
        }

        ModelPackageException ex = await Assert.ThrowsAsync<ModelPackageException>(() => TrustedKeys.LoadDirectoryAsync(keysFolder, CancellationToken.None));

        Assert.Equal(2, ex.Problems.Count);
        Assert.All(ex.Problems, p => Assert.Equal(PackageProblemKind.TrustedKeyInvalid, p.Kind));
        Assert.Contains(ex.Problems, p => p.Message.Contains("p384.pem", StringComparison.Ordinal) && p.Message.Contains("P-256", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Message.Contains("private.pem", StringComparison.Ordinal) && p.Message.Contains("give the public key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EmptyTrustedKeyFolderIsRefused()
    {
        Directory.CreateDirectory(_temp.Combine("trusted"));

        ModelPackageException ex = await Assert.ThrowsAsync<ModelPackageException>(() => TrustedKeys.LoadDirectoryAsync(_temp.Combine("trusted"), CancellationToken.None));

        Assert.Contains("holds no *.pem public keys", Assert.Single(ex.Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sec1PrivateKeyIsRefusedWithAConversionHint()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string sec1 = key.ExportECPrivateKeyPem();

        ModelPackageException ex = Assert.Throws<ModelPackageException>(() => PackageSigningKey.FromPrivateKeyPem(sec1, "old.pem"));

        PackageProblem problem = Assert.Single(ex.Problems);
        Assert.Equal(PackageProblemKind.SigningKeyInvalid, problem.Kind);
        Assert.Contains("openssl pkcs8 -topk8", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignatureCoversTheExactManifestBytes()
    {
        byte[] manifest = Encoding.UTF8.GetBytes(TestPackages.ValidManifest().ToJsonString());
        ManifestSignature signature = _key.Sign(manifest);
        TrustedKeys trusted = Trust(_key);

        bool original = trusted.TryVerify(manifest, signature.ToUtf8Json(), out string? keyId, out _);
        bool withTrailingNewline = trusted.TryVerify([.. manifest, (byte)'\n'], signature.ToUtf8Json(), out _, out PackageProblem? problem);

        Assert.True(original);
        Assert.Equal(_key.KeyId, keyId);
        Assert.False(withTrailingNewline);
        Assert.Equal(PackageProblemKind.SignatureInvalid, problem!.Kind);
    }

    private static TrustedKeys Trust(PackageSigningKey key) => TrustedKeys.FromPem([("test key", key.ExportPublicKeyPem())]);

    private static async Task RunOpensslAsync(params string[] arguments)
    {
        ProcessStartInfo start = new("openssl") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', arguments)} failed: {stderr}");
    }
}
