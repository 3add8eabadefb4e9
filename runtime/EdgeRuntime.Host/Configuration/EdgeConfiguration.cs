using EdgeRuntime.Core.Pipeline;
using Microsoft.Extensions.Configuration;

namespace EdgeRuntime.Host.Configuration;

/// <summary>
/// Where the service's configuration comes from, in increasing precedence: the embedded default (bundled
/// sample model, replayed samples, local state), the JSON config file, then <c>EDGERUNTIME_</c> environment
/// variables (<c>EDGERUNTIME_Mqtt__Host</c> sets <c>Mqtt:Host</c>). On the embedded default, the file is
/// <see cref="StateOverrideFileName"/> in the state directory when it exists (what <c>config/set</c> wrote).
/// </summary>
public sealed class EdgeConfiguration
{
    /// <summary>The config file a provisioned device reads when no <c>--config</c> is given.</summary>
    public const string DefaultConfigPath = "/etc/edge-runtime/config.json";

    /// <summary>Prefix of environment overrides.</summary>
    public const string EnvironmentPrefix = "EDGERUNTIME_";

    /// <summary>The file in <c>Pipeline:StateDirectory</c> that holds changes to the embedded default.</summary>
    public const string StateOverrideFileName = "config.override.json";

    private readonly IDictionary<string, string?>? _overrides;

    private EdgeConfiguration(IConfigurationRoot root, string? configFile, string writableFile, string description, IDictionary<string, string?>? overrides)
    {
        Root = root;
        ConfigFile = configFile;
        WritableFile = writableFile;
        Description = description;
        _overrides = overrides;
    }

    /// <summary>The merged configuration.</summary>
    public IConfigurationRoot Root { get; }

    /// <summary>The JSON file read, or null when running on the embedded default alone.</summary>
    public string? ConfigFile { get; }

    /// <summary>
    /// The file configuration changes are written to (full path): the config file the service was started with, or,
    /// on the embedded default, <see cref="StateOverrideFileName"/> in the state directory (read at the next start).
    /// </summary>
    public string WritableFile { get; }

    /// <summary>One line saying where the configuration came from, for the start-up log.</summary>
    public string Description { get; }

    /// <summary>
    /// Builds the configuration. An explicit <paramref name="configPath"/> must exist; without one,
    /// <see cref="DefaultConfigPath"/> is used when present, else the embedded default (with the state
    /// directory's <see cref="StateOverrideFileName"/> when present).
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

        string writable;
        string description;
        if (file is null)
        {
            // Where the override file lives cannot depend on the file itself: the state directory of the default,
            // the environment and the overrides.
            string state = Compose(null, overrides)[$"{PipelineOptions.SectionName}:{nameof(PipelineOptions.StateDirectory)}"] ?? ".";
            writable = Path.GetFullPath(Path.Combine(state, StateOverrideFileName));
            if (File.Exists(writable))
            {
                file = writable;
                description = $"the embedded default with the changes in {writable}";
            }
            else
            {
                description = $"no config file ({DefaultConfigPath} absent): running on the embedded default";
            }
        }
        else
        {
            writable = Path.GetFullPath(file);
            description = $"config file {writable}";
        }

        try
        {
            IConfigurationRoot root = Compose(file is null ? null : builder => builder.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false), overrides);
            return new EdgeConfiguration(root, file, writable, description, overrides);
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

    /// <summary>
    /// The configuration as it would be with <paramref name="json"/> in <see cref="WritableFile"/>, every other source
    /// unchanged: what <c>config/set</c> validates before it writes.
    /// </summary>
    /// <exception cref="FormatException"><paramref name="json"/> is not valid JSON.</exception>
    public IConfigurationRoot WithFileContents(byte[] json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Compose(builder => builder.AddJsonStream(new MemoryStream(json, writable: false)), _overrides);
    }

    private static IConfigurationRoot Compose(Action<ConfigurationBuilder>? addFile, IDictionary<string, string?>? overrides)
    {
        var builder = new ConfigurationBuilder();
        builder.AddInMemoryCollection(EmbeddedDefaults.Create());
        addFile?.Invoke(builder);
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
        {
            builder.AddInMemoryCollection(overrides);
        }

        return builder.Build();
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
