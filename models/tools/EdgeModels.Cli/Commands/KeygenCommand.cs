using System.CommandLine;
using EdgeRuntime.ModelPackages.Signing;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models keygen</c>: creates an ECDSA P-256 signing key pair. The private key (PKCS#8 PEM) stays on the
/// signing workstation, readable by its owner only; the public key (SubjectPublicKeyInfo PEM) goes into the
/// devices' trusted-keys folder.
/// </summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        Option<FileInfo> privateOption = new("--private-key") { Description = "Where to write the private key (PKCS#8 PEM, mode 0600).", Required = true };
        Option<FileInfo> publicOption = new("--public-key") { Description = "Where to write the public key (SubjectPublicKeyInfo PEM).", Required = true };
        Option<bool> forceOption = new("--force") { Description = "Overwrite existing key files." };

        Command command = new("keygen", "Create an ECDSA P-256 key pair for signing model packages.") { privateOption, publicOption, forceOption };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(privateOption).FullName,
            parse.GetRequiredValue(publicOption).FullName,
            parse.GetValue(forceOption),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        string privatePath, string publicPath, bool force, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (string.Equals(privatePath, publicPath, StringComparison.Ordinal))
        {
            await error.WriteLineAsync("--private-key and --public-key must be different files.").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        foreach (string path in (ReadOnlySpan<string>)[privatePath, publicPath])
        {
            if (File.Exists(path) && !force)
            {
                await error.WriteLineAsync($"{path} already exists; give --force to overwrite it (a lost private key cannot be recovered).")
                    .ConfigureAwait(false);
                return PackageConsole.UsageError;
            }
        }

        using PackageSigningKey key = PackageSigningKey.Generate();
        try
        {
            await WriteAsync(privatePath, key.ExportPrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite, cancellationToken).ConfigureAwait(false);
            await WriteAsync(publicPath, key.ExportPublicKeyPem(),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"Cannot write the key files: {ex.Message}").ConfigureAwait(false);
            return PackageConsole.UsageError;
        }

        await output.WriteLineAsync($"key id {key.KeyId}").ConfigureAwait(false);
        await output.WriteLineAsync($"private key: {privatePath} (keep it off devices and out of version control)").ConfigureAwait(false);
        await output.WriteLineAsync($"public key:  {publicPath} (copy it into the devices' trusted-keys folder)").ConfigureAwait(false);
        return PackageConsole.Success;
    }

    private static async Task WriteAsync(string path, string pem, UnixFileMode mode, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Delete(path);

        // Created with its final mode: a private key must never exist, even briefly, readable by others.
        FileStreamOptions options = new() { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        StreamWriter writer = new(path, System.Text.Encoding.ASCII, options);
        await using (writer.ConfigureAwait(false))
        {
            await writer.WriteAsync(pem.AsMemory(), cancellationToken).ConfigureAwait(false);
            await writer.WriteLineAsync().ConfigureAwait(false);
        }
    }
}
