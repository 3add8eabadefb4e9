using System.CommandLine;
using EdgeRuntime.ModelPackages;
using EdgeRuntime.ModelPackages.Archive;
using EdgeRuntime.ModelPackages.Signing;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models verify</c>: checks a package folder or archive the way a device does before it loads it:
/// manifest, model hash, golden files, and (with trusted keys) the signature. Exit code 1 names every problem.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        Argument<string> packageArgument = new("DIR|FILE.edgepkg") { Description = "Package folder or .edgepkg archive to verify." };
        Option<DirectoryInfo?> keysOption = new("--trusted-keys") { Description = "Folder of trusted public keys (*.pem); without it a signature is not checked." };
        Option<bool> requireOption = new("--require-signature") { Description = "Refuse an unsigned package (needs --trusted-keys)." };

        Command command = new("verify", "Verify a model package: manifest, model SHA-256, golden files and signature.")
        {
            packageArgument, keysOption, requireOption,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(packageArgument),
            parse.GetValue(keysOption)?.FullName,
            parse.GetValue(requireOption),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string package, string? trustedKeysFolder, bool requireSignature, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (requireSignature && trustedKeysFolder is null)
        {
            await error.WriteLineAsync("--require-signature needs --trusted-keys: a signature can only be required if it can be checked.").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        if (!Directory.Exists(package) && !File.Exists(package))
        {
            await error.WriteLineAsync($"{package} is neither a package folder nor an .edgepkg file.").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        try
        {
            PackageVerificationOptions verification = PackageVerificationOptions.NoSignatureCheck;
            if (trustedKeysFolder is not null)
            {
                TrustedKeys keys = await TrustedKeys.LoadDirectoryAsync(trustedKeysFolder, cancellationToken).ConfigureAwait(false);
                verification = requireSignature
                    ? PackageVerificationOptions.RequireSignatureFrom(keys)
                    : PackageVerificationOptions.VerifyIfSigned(keys);
            }

            return PackageConsole.IsArchive(package)
                ? await VerifyArchiveAsync(package, verification, output, error, cancellationToken).ConfigureAwait(false)
                : await ReportAsync(package, await ModelPackage.OpenAsync(package, verification, cancellationToken).ConfigureAwait(false), output, error)
                    .ConfigureAwait(false);
        }
        catch (ModelPackageException ex)
        {
            return await PackageConsole.ReportAsync(error, trustedKeysFolder ?? package, ex.Problems).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"Cannot verify {package}: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }
    }

    private static async Task<int> VerifyArchiveAsync(
        string archive, PackageVerificationOptions verification, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // Extraction is the verification: the same code path a device runs, into a scratch folder removed afterwards.
        string scratch = Path.Combine(Path.GetTempPath(), $"edgepkg-verify-{Guid.NewGuid():N}");
        try
        {
            ArchiveExtractionOptions options = new() { Verification = verification };
            PackageLoadResult result = await PackageArchive.ExtractAsync(archive, Path.Combine(scratch, "package"), options, cancellationToken)
                .ConfigureAwait(false);
            return await ReportAsync(archive, result, output, error).ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    private static async Task<int> ReportAsync(string subject, PackageLoadResult result, TextWriter output, TextWriter error)
    {
        if (!result.Succeeded)
        {
            return await PackageConsole.ReportAsync(error, subject, result.Problems).ConfigureAwait(false);
        }

        ModelPackage package = result.Package;
        string signature = package.SignatureState switch
        {
            PackageSignatureState.Verified => $"signature verified (key {package.SignerKeyId})",
            PackageSignatureState.NotVerified => "signature present but not checked (give --trusted-keys)",
            _ => "unsigned",
        };
        await output.WriteLineAsync(
            $"OK {subject}: {package.Manifest.Id} {package.Manifest.Version}, {package.Manifest.Model.File} sha256 {package.Manifest.Model.Sha256} matches, {signature}")
            .ConfigureAwait(false);
        return PackageConsole.Success;
    }
}
