using Microsoft.Extensions.Configuration;

namespace EdgeRuntime.Host.Configuration;

/// <summary>
/// Where the service's configuration comes from, in increasing precedence: the embedded default (bundled
/// sample model, replayed samples, local state), the JSON config file, then <c>EDGERUNTIME_</c> environment
/// variables (<c>EDGERUNTIME_Mqtt__Host</c> sets <c>Mqtt:Host</c>).
/// </summary>
public sealed class EdgeConfiguration
{
    /// <summary>The config file a provisioned device reads when no <c>--config</c> is given.</summary>
    public const string DefaultConfigPath = "/etc/edge-runtime/config.json";

    /// <summary>Prefix of environment overrides.</summary>
    public const string EnvironmentPrefix = "EDGERUNTIME_";

    private EdgeConfiguration(IConfigurationRoot root, string? configFile, string description)
    {
        Root = root;
        ConfigFile = configFile;
        Description = description;
    }

    /// <summary>The merged configuration.</summary>
    public IConfigurationRoot Root { get; }

    /// <summary>The JSON file read, or null when running on the embedded default.</summary>
    public string? ConfigFile { get; }

    /// <summary>One line saying where the configuration came from, for the start-up log.</summary>
    public string Description { get; }

    /// <summary>
    /// Builds the configuration. An explicit <paramref name="configPath"/> must exist; without one,
    /// <see cref="DefaultConfigPath"/> is used when present, else the embedded default alone.
    /// </summary>
    /// <exception cref="ConfigurationFileException">The file is missing or is not valid JSON.</exception>
    public static EdgeConfiguration Build(string? configPath, IDictionary<string, string?>? overrides = null)
    {
        string? file = configPath;
        if (file is not null && !File.Exists(file))
        {
            throw new ConfigurationFileException($"config file {file} does not exist");
        }

        if (file is null && File.Exists(DefaultConfigPath))
        {
            file = DefaultConfigPath;
        }

        var builder = new ConfigurationBuilder();
        builder.AddInMemoryCollection(EmbeddedDefaults.Create());
        if (file is not null)
        {
            builder.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }

        try
        {
            IConfigurationRoot root = builder.Build();
            string description = file is null
                ? $"no config file ({DefaultConfigPath} absent): running on the embedded default"
                : $"config file {Path.GetFullPath(file)}";
            return new EdgeConfiguration(root, file, description);
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            // The JSON provider reports the line and position; keep its words, add the file.
            Exception innermost = ex;
            while (innermost.InnerException is not null)
            {
                innermost = innermost.InnerException;
            }

            throw new ConfigurationFileException($"config file {file} is not valid JSON: {innermost.Message}", ex);
        }
    }
}

/// <summary>The config file cannot be used at all (missing, unreadable, not JSON).</summary>
public sealed class ConfigurationFileException : Exception
{
    public ConfigurationFileException(string message)
        : base(message)
    {
    }

    public ConfigurationFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
