using System.CommandLine;
using EdgeRuntime.ModelPackages;
using EdgeRuntime.ModelPackages.Archive;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models package</c>: verifies a package folder (manifest, model hash, golden files) and writes it as one
/// deterministic <c>&lt;id&gt;-&lt;version&gt;.edgepkg</c> archive. <c>--update-hash</c> first records the model's SHA-256;
/// <c>--golden DIR --labels FILE</c> first makes DIR's images the package's golden samples.
/// </summary>
internal static class PackageCommand
{
    public static Command Create()
    {
        Argument<DirectoryInfo> folderArgument = new("DIR") { Description = "Package folder: manifest.json, the ONNX file, optional manifest.sig and golden/." };
        Option<FileInfo?> outOption = new("--out", "-o") { Description = "Archive to write (default: ./<id>-<version>.edgepkg)." };
        Option<bool> updateHashOption = new("--update-hash")
        {
            Description = "Compute the model file's SHA-256 and write it to model.sha256 first (removes a manifest.sig that no longer matches).",
        };

        Option<DirectoryInfo?> goldenOption = new("--golden")
        {
            Description = "Make the images in this folder the golden samples: copied to golden/, hashed, listed in goldenSamples (needs --labels).",
        };
        Option<FileInfo?> labelsOption = new("--labels")
        {
            Description = "JSON Lines, one object per golden image: {\"file\": \"0001.png\", \"verdict\": \"FAIL\", \"defects\": [{\"class\": 1}]} (defects optional).",
        };

        Command command = new("package", "Verify a model package folder and write it as a single .edgepkg archive.")
        {
            folderArgument, outOption, updateHashOption, goldenOption, labelsOption,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(folderArgument).FullName,
            parse.GetValue(outOption)?.FullName,
            parse.GetValue(updateHashOption),
            parse.GetValue(goldenOption)?.FullName,
            parse.GetValue(labelsOption)?.FullName,
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string folder, string? archivePath, bool updateHash, string? golden, string? labels, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(folder))
        {
            await error.WriteLineAsync($"{folder} is not a folder.").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        if ((golden is null) != (labels is null) || (golden is not null && !Directory.Exists(golden)))
        {
            await error.WriteLineAsync("--golden needs a folder of images and --labels their expected verdicts (both, or neither).").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        try
        {
            if (golden is not null)
            {
                GoldenSamplesUpdate update = await PackageAuthoring.SetGoldenSamplesAsync(folder, golden, labels!, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"goldenSamples = {update.Samples.Count} image(s) from {golden}").ConfigureAwait(false);
                if (update.SignatureRemoved)
                {
                    await error.WriteLineAsync(
                        $"warning: removed {PackagePaths.SignatureFileName}, which signed the previous manifest; sign the package again (edge-models sign)")
                        .ConfigureAwait(false);
                }
            }

            if (updateHash)
            {
                ModelHashUpdate update = await PackageAuthoring.UpdateModelHashAsync(folder, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"model.sha256 = {update.Sha256} ({(update.ManifestChanged ? "updated" : "unchanged")})").ConfigureAwait(false);
                if (update.SignatureRemoved)
                {
                    await error.WriteLineAsync(
                        $"warning: removed {PackagePaths.SignatureFileName}, which signed the previous manifest; sign the package again (edge-models sign)")
                        .ConfigureAwait(false);
                }
            }

            PackageLoadResult opened = await ModelPackage.OpenAsync(folder, PackageVerificationOptions.NoSignatureCheck, cancellationToken)
                .ConfigureAwait(false);
            if (!opened.Succeeded)
            {
                return await PackageConsole.ReportAsync(error, folder, opened.Problems).ConfigureAwait(false);
            }

            ModelPackage package = opened.Package;
            string target = archivePath ?? Path.GetFullPath(PackagePaths.ArchiveFileName(package.Manifest));
            await PackageArchive.CreateAsync(package, target, cancellationToken).ConfigureAwait(false);

            await ReportSkippedFilesAsync(package, error).ConfigureAwait(false);
            long size = new FileInfo(target).Length;
            string signature = package.SignatureState == PackageSignatureState.Unsigned ? "unsigned" : "signed (not verified here)";
            await output.WriteLineAsync($"wrote {target} ({size} bytes): {package.Manifest.Id} {package.Manifest.Version}, {signature}").ConfigureAwait(false);
            foreach (string file in package.RelativeFiles)
            {
                await output.WriteLineAsync($"  {file}").ConfigureAwait(false);
            }

            return PackageConsole.Success;
        }
        catch (ModelPackageException ex)
        {
            return await PackageConsole.ReportAsync(error, folder, ex.Problems).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"Cannot package {folder}: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }
    }

    private static async Task ReportSkippedFilesAsync(ModelPackage package, TextWriter error)
    {
        HashSet<string> packaged = new(package.RelativeFiles, StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(package.DirectoryPath, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(package.DirectoryPath, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!packaged.Contains(relative))
            {
                await error.WriteLineAsync($"note: {relative} is not part of the package (not named by the manifest) and was left out").ConfigureAwait(false);
            }
        }
    }
}
