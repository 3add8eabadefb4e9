using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRuntime.Messaging.Commands;
using EdgeRuntime.ModelPackages;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Logging;

namespace EdgeRuntime.Host.Configuration;

/// <summary>
/// <c>config/set</c>'s store: the new values go into the file the service was started with (or, on the embedded
/// default, the state directory's override file), are validated together with every other source exactly as
/// start-up and <c>check-config</c> validate (<see cref="OptionsRegistry"/>), and are written atomically only when
/// there is no problem at all. A key is reported live only when a running component (<see cref="ILiveConfigurable"/>)
/// applied it; every other key takes effect at the next start. The file is rewritten as plain JSON (comments are not
/// kept); the previous version stays beside it as <c>.bak</c>. Called by the command loop, one update at a time; the
/// lock only guards against a second caller.
/// </summary>
internal sealed partial class FileConfigurationStore : IConfigurationStore
{
    private static readonly JsonDocumentOptions s_read = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly JsonSerializerOptions s_write = new() { WriteIndented = true };

    private readonly EdgeConfiguration _configuration;
    private readonly OptionsRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly IReadOnlyList<ILiveConfigurable> _live;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    /// <param name="configuration">Where the configuration came from; its <see cref="EdgeConfiguration.WritableFile"/> is written.</param>
    /// <param name="registry">The start-up check.</param>
    /// <param name="services">The validators the check runs.</param>
    /// <param name="live">The components that apply keys while running.</param>
    /// <param name="logger">Logger (keys and file, never values).</param>
    public FileConfigurationStore(EdgeConfiguration configuration, OptionsRegistry registry, IServiceProvider services, IEnumerable<ILiveConfigurable> live,
        ILogger<FileConfigurationStore> logger)
    {
        _configuration = configuration;
        _registry = registry;
        _services = services;
        _live = [.. live];
        _logger = logger;
    }

    /// <inheritdoc />
    /// <exception cref="IOException">The file cannot be read or written; nothing changed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file or its folder is not writable by the service; nothing changed.</exception>
    public ConfigurationUpdate Update(IReadOnlyList<KeyValuePair<string, string>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        lock (_gate)
        {
            string file = _configuration.WritableFile;
            byte[]? previous = File.Exists(file) ? File.ReadAllBytes(file) : null;
            JsonObject document;
            try
            {
                document = previous is null ? [] : JsonNode.Parse(previous, documentOptions: s_read) as JsonObject ?? throw new JsonException("the file is not a JSON object");
            }
            catch (JsonException ex)
            {
                return ConfigurationUpdate.Refused([$"{file}: not valid JSON since the service started ({ex.Message}); fix the file first"]);
            }

            var problems = new List<string>();
            foreach ((string key, string value) in values)
            {
                Set(document, key, value, problems);
            }

            // Checked as a whole even when a key could not be placed, so one request lists every problem.
            byte[] candidate = JsonSerializer.SerializeToUtf8Bytes(document, s_write);
            IConfigurationRoot merged = _configuration.WithFileContents(candidate);
            problems.AddRange(_registry.Check(_services, merged));
            problems.AddRange(Shadowed(merged, values));

            if (problems.Count > 0)
            {
                Log.Refused(_logger, problems.Count, string.Join(", ", values.Select(v => v.Key)));
                return ConfigurationUpdate.Refused(problems);
            }

            if (previous is not null)
            {
                AtomicFile.Write(file + ".bak", previous);
            }

            AtomicFile.Write(file, candidate);
            var applied = new List<KeyValuePair<string, KeyApplication>>(values.Count);
            foreach ((string key, string value) in values)
            {
                bool live = false;
                foreach (ILiveConfigurable component in _live)
                {
                    live |= component.TryApplyLive(key, value);
                }

                applied.Add(new(key, live ? KeyApplication.Live : KeyApplication.RestartRequired));
            }

            Log.Changed(_logger, file, string.Join(", ", applied.Select(a => $"{a.Key} ({(a.Value == KeyApplication.Live ? "live" : "at the next start")})")));
            return new ConfigurationUpdate([], file, applied);
        }
    }

    /// <summary>Keys that a source above the file also sets (the environment, an override): the value written would never be in effect.</summary>
    private static IEnumerable<string> Shadowed(IConfigurationRoot merged, IReadOnlyList<KeyValuePair<string, string>> values)
    {
        List<IConfigurationProvider> providers = [.. merged.Providers];
        int file = providers.FindIndex(p => p is JsonStreamConfigurationProvider);
        foreach ((string key, _) in values)
        {
            IConfigurationProvider? above = providers.Skip(file + 1).LastOrDefault(p => p.TryGet(key, out _));
            if (above is EnvironmentVariablesConfigurationProvider)
            {
                yield return $"{key}: the environment variable {EdgeConfiguration.EnvironmentPrefix}{key.Replace(":", "__", StringComparison.Ordinal)} sets it and wins over the file; change it there";
            }
            else if (above is not null)
            {
                yield return $"{key}: set by an override given at start-up, which wins over the file";
            }
        }
    }

    /// <summary>Sets <paramref name="key"/> (Section:Key:...) in the JSON tree, reusing the spelling of existing sections and keys.</summary>
    private static void Set(JsonObject document, string key, string value, List<string> problems)
    {
        string[] levels = key.Split(':');
        JsonObject section = document;
        for (int i = 0; i < levels.Length - 1; i++)
        {
            string? existing = FindProperty(section, levels[i]);
            if (existing is null)
            {
                var created = new JsonObject();
                section[levels[i]] = created;
                section = created;
            }
            else if (section[existing] is JsonObject child)
            {
                section = child;
            }
            else
            {
                problems.Add($"{key}: {string.Join(':', levels[..(i + 1)])} holds a value in the file, not a section");
                return;
            }
        }

        string name = FindProperty(section, levels[^1]) ?? levels[^1];
        if (section[name] is JsonObject or JsonArray)
        {
            problems.Add($"{key}: a section in the file, not a single value");
            return;
        }

        section[name] = ToNode(value);
    }

    private static string? FindProperty(JsonObject section, string name)
    {
        foreach (KeyValuePair<string, JsonNode?> property in section)
        {
            // Configuration keys are case-insensitive: "pipeline" and "Pipeline" are one section.
            if (string.Equals(property.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Key;
            }
        }

        return null;
    }

    /// <summary>true/false and JSON numbers are written as such (the binder reads them as the same text); anything else as a string.</summary>
    private static JsonNode ToNode(string value)
    {
        if (value is "true" or "false")
        {
            return JsonValue.Create(value == "true");
        }

        if (value.Length > 0 && (char.IsAsciiDigit(value[0]) || value[0] == '-'))
        {
            try
            {
                if (JsonNode.Parse(value) is JsonValue number && number.GetValueKind() == JsonValueKind.Number && number.ToJsonString() == value)
                {
                    return number;
                }
            }
            catch (JsonException)
            {
                // "0042", "1.", "-": not a JSON number, so kept as the string it is.
            }
        }

        return JsonValue.Create(value);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Configuration written to {File} over MQTT (config/set): {Keys}")]
        public static partial void Changed(ILogger logger, string file, string keys);

        [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Configuration change over MQTT refused with {Count} problem(s), nothing changed: {Keys}")]
        public static partial void Refused(ILogger logger, int count, string keys);
    }
}
