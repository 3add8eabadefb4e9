using System.CommandLine;
using EdgeRuntime.ModelPackages;
using EdgeRuntime.ModelPackages.Signing;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models sign</c>: signs a package's manifest.json with an ECDSA P-256 private key and writes manifest.sig
/// (in the folder, or inside the .edgepkg, which is rewritten).
/// </summary>
internal static class SignCommand
{
    public static Command Create()
    {
        Argument<string> packageArgument = new("DIR|FILE.edgepkg") { Description = "Package folder or .edgepkg archive to sign." };
        Option<FileInfo> keyOption = new("--key") { Description = "Private key, PKCS#8 PEM (edge-models keygen writes one).", Required = true };

        Command command = new("sign", "Sign a model package (writes manifest.sig over the exact bytes of manifest.json).") { packageArgument, keyOption };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(packageArgument),
            parse.GetRequiredValue(keyOption).FullName,
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string package, string keyPath, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(package) && !File.Exists(package))
        {
            await error.WriteLineAsync($"{package} is neither a package folder nor an .edgepkg file.").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        try
        {
            using PackageSigningKey key = await PackageSigningKey.LoadAsync(keyPath, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<PackageProblem> problems = PackageConsole.IsArchive(package)
                ? await PackageAuthoring.SignArchiveAsync(package, key, cancellationToken).ConfigureAwait(false)
                : (await PackageAuthoring.SignDirectoryAsync(package, key, cancellationToken).ConfigureAwait(false)).Problems;
            if (problems.Count > 0)
            {
                return await PackageConsole.ReportAsync(error, package, problems).ConfigureAwait(false);
            }

            await output.WriteLineAsync($"signed {package} with key {key.KeyId}").ConfigureAwait(false);
            return PackageConsole.Success;
        }
        catch (ModelPackageException ex)
        {
            return await PackageConsole.ReportAsync(error, keyPath, ex.Problems).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"Cannot sign {package}: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }
    }
}
