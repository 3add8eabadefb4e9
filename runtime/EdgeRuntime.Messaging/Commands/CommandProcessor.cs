using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Messaging.Health;
using EdgeRuntime.Messaging.Outbox;
using EdgeRuntime.Messaging.Payloads;
using Microsoft.Extensions.Configuration;

namespace EdgeRuntime.Messaging.Commands;

/// <summary>What a command produced: the reply payload and, for <c>replay</c>, the records to publish again.</summary>
/// <param name="Reply">The reply JSON (schema 1).</param>
/// <param name="Succeeded">Whether the reply's status is <c>ok</c>.</param>
/// <param name="Republish">Result records to publish again, in order (empty for every command but replay).</param>
/// <param name="AfterReply">What to do once the reply has been delivered to the broker (<c>restart</c>: ask the host to stop); null = nothing.</param>
public sealed record CommandOutcome(byte[] Reply, bool Succeeded, IReadOnlyList<OutboxRecord> Republish, Action? AfterReply = null);

/// <summary>
/// Executes commands received on <c>{base}/cmd/{name}</c>: ping, capture, config/get, config/set, model/status, replay,
/// restart. Every request gets exactly one reply; a malformed, oversized or unknown request gets an error reply and
/// changes nothing. Has no network access of its own (the connection service publishes what it returns, and runs
/// <see cref="CommandOutcome.AfterReply"/> once the reply is out), so it is tested without a broker. Called from the
/// connection service's command loop, one command at a time; not thread-safe.
/// </summary>
public sealed class CommandProcessor
{
    /// <summary>The commands understood, by name.</summary>
    public static IReadOnlyList<string> Known { get; } = ["ping", "capture", "config/get", "config/set", "model/status", "replay", "restart"];

    /// <summary>Most records one replay request may ask for.</summary>
    public const int MaxReplayRecords = 10_000;

    /// <summary>Most keys one <c>config/set</c> may change.</summary>
    public const int MaxConfigKeys = 64;

    /// <summary>Longest delay <c>restart</c> accepts, in seconds.</summary>
    public const int MaxRestartDelaySeconds = 3600;

    private static readonly JsonDocumentOptions s_parse = new() { MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };
    private static readonly JsonEncodedText s_model = JsonEncodedText.Encode("model");
    private static readonly string[] s_secretWords = ["password", "secret", "token", "privatekey"];

    private readonly SoftwareTrigger? _trigger;
    private readonly IModelStatusSource? _models;
    private readonly IConfiguration? _configuration;
    private readonly DurableOutbox _outbox;
    private readonly TimeProvider _time;
    private readonly int _maxBytes;
    private readonly IConfigurationStore? _store;
    private readonly IServiceRestarter? _restarter;

    /// <param name="maxBytes">Largest payload accepted.</param>
    /// <param name="trigger">Fired by <c>capture</c>; null = capture answers that software triggering is not available.</param>
    /// <param name="models">For <c>model/status</c>; null = not available.</param>
    /// <param name="configuration">For <c>config/get</c> (secrets redacted); null = not available.</param>
    /// <param name="outbox">For <c>replay</c>.</param>
    /// <param name="timeProvider">Clock for replies.</param>
    /// <param name="store">For <c>config/set</c>; null = not available.</param>
    /// <param name="restarter">For <c>restart</c>; null = not available.</param>
    public CommandProcessor(int maxBytes, SoftwareTrigger? trigger, IModelStatusSource? models, IConfiguration? configuration, DurableOutbox outbox,
        TimeProvider timeProvider, IConfigurationStore? store = null, IServiceRestarter? restarter = null)
    {
        _maxBytes = maxBytes;
        _trigger = trigger;
        _models = models;
        _configuration = configuration;
        _outbox = outbox;
        _time = timeProvider;
        _store = store;
        _restarter = restarter;
    }

    /// <summary>Runs the command <paramref name="name"/> with <paramref name="payload"/> and returns its reply.</summary>
    public CommandOutcome Handle(string name, ReadOnlySequence<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(name);
        var reply = new ReplyBuilder(name, _time);
        if (payload.Length > _maxBytes)
        {
            return reply.Error("payload-too-large", $"the payload has {payload.Length} bytes; at most {_maxBytes} are accepted");
        }

        // Checked before parsing: the parser accepts invalid UTF-8 inside strings and fails only when one is read.
        if (!Utf8.IsValid(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray()))
        {
            return reply.Error("malformed", "the payload is not valid UTF-8");
        }

        JsonDocument? document = null;
        try
        {
            if (payload.Length > 0)
            {
                document = JsonDocument.Parse(payload, s_parse);
            }
        }
        catch (JsonException ex)
        {
            return reply.Error("malformed", "the payload is not valid JSON: " + ex.Message);
        }

        using (document)
        {
            JsonElement root = document?.RootElement ?? default;
            if (document is not null && root.ValueKind != JsonValueKind.Object)
            {
                return reply.Error("malformed", $"the payload must be a JSON object, not {root.ValueKind.ToString().ToLowerInvariant()}");
            }

            if (document is not null && root.TryGetProperty("id", out JsonElement id))
            {
                if (!reply.TrySetId(id))
                {
                    return reply.Error("invalid-argument", "id must be a string of at most 128 characters or a number");
                }
            }

            try
            {
                return name switch
                {
                    "ping" => reply.Ok(w => w.WriteBoolean("pong", true)),
                    "capture" => Capture(reply, root),
                    "config/get" => ConfigGet(reply, root),
                    "config/set" => ConfigSet(reply, root),
                    "model/status" => ModelStatus(reply),
                    "replay" => Replay(reply, root),
                    "restart" => Restart(reply, root),
                    _ => reply.Error("unknown-command", "unknown command; known: " + string.Join(", ", Known)),
                };
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException or IOException)
            {
                // The boundary to hostile input: a request this code did not foresee still gets its one reply, and changes nothing.
                return reply.Error("internal-error", $"the command failed: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    /// <summary>An error reply for a request that could not even be read (e.g. refused before parsing).</summary>
    public CommandOutcome Refuse(string name, string code, string message) => new ReplyBuilder(name, _time).Error(code, message);

    private CommandOutcome Capture(ReplyBuilder reply, JsonElement root)
    {
        string? correlation = null;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("correlation", out JsonElement c))
        {
            if (c.ValueKind != JsonValueKind.String || c.GetString()!.Length > 128)
            {
                return reply.Error("invalid-argument", "correlation must be a string of at most 128 characters");
            }

            correlation = c.GetString();
        }

        if (_trigger is null)
        {
            return reply.Error("unavailable", "software triggering is not available in this configuration");
        }

        return _trigger.Fire(correlation ?? reply.IdText)
            ? reply.Ok(w => w.WriteBoolean("accepted", true))
            : reply.Error("busy", "too many software triggers are waiting; try again");
    }

    private CommandOutcome ConfigGet(ReplyBuilder reply, JsonElement root)
    {
        if (_configuration is null)
        {
            return reply.Error("unavailable", "the configuration is not available");
        }

        IConfiguration scope = _configuration;
        string? sectionName = null;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("section", out JsonElement s))
        {
            if (s.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(s.GetString()) || s.GetString()!.Length > 128)
            {
                return reply.Error("invalid-argument", "section must be a configuration path such as \"Mqtt\" or \"Pipeline:DeadlineMs\"");
            }

            sectionName = s.GetString()!;
            IConfigurationSection section = _configuration.GetSection(sectionName);
            if (!section.Exists())
            {
                return reply.Error("not-found", $"no configuration section \"{sectionName}\"");
            }

            if (section.Value is { } value)
            {
                return reply.Ok(w => w.WriteString("value", IsSecret(section.Key) ? "***" : value));
            }

            scope = section;
        }

        return reply.Ok(w =>
        {
            w.WritePropertyName("config");
            WriteSection(w, scope, 0);
        });
    }

    private static void WriteSection(Utf8JsonWriter writer, IConfiguration section, int depth)
    {
        writer.WriteStartObject();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (child.Value is { } value)
            {
                writer.WriteString(child.Key, IsSecret(child.Key) ? "***" : value);
            }
            else if (depth < 6)
            {
                writer.WritePropertyName(child.Key);
                WriteSection(writer, child, depth + 1);
            }
        }

        writer.WriteEndObject();
    }

    private CommandOutcome ConfigSet(ReplyBuilder reply, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("values", out JsonElement values) || values.ValueKind != JsonValueKind.Object)
        {
            return reply.Error("invalid-argument", "config/set needs {\"values\": {\"Section:Key\": value, ...}}");
        }

        var problems = new List<string>();
        var changes = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (JsonProperty property in values.EnumerateObject())
        {
            string key = property.Name;
            string shown = key.Length > 64 ? key[..64] + "..." : key;
            if (changes.Count + problems.Count >= MaxConfigKeys)
            {
                problems.Add($"at most {MaxConfigKeys} keys per request");
                break;
            }

            if (!IsConfigurationPath(key))
            {
                problems.Add($"\"{shown}\": not a configuration path (Section:Key, letters, digits and '_' between the colons)");
                continue;
            }

            if (!seen.Add(key))
            {
                problems.Add($"{key}: given twice");
                continue;
            }

            if (IsSecret(key[(key.LastIndexOf(':') + 1)..]))
            {
                problems.Add($"{key}: secrets are not set over MQTT (use the environment or a file)");
                continue;
            }

            JsonElement value = property.Value;
            string? text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
            if (text is null || text.Length > 4096)
            {
                problems.Add($"{key}: the value must be a string (at most 4096 characters), a number or true/false, not {value.ValueKind.ToString().ToLowerInvariant()}");
                continue;
            }

            changes.Add(new KeyValuePair<string, string>(key, text));
        }

        if (problems.Count == 0 && changes.Count == 0)
        {
            problems.Add("values is empty: name at least one key");
        }

        if (problems.Count > 0)
        {
            return reply.Error("invalid-argument", Describe(problems), problems);
        }

        if (_store is null)
        {
            return reply.Error("unavailable", "changing the configuration is not available in this configuration");
        }

        ConfigurationUpdate update;
        try
        {
            update = _store.Update(changes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return reply.Error("unavailable", $"the configuration could not be written, nothing changed: {ex.Message}");
        }

        if (!update.Accepted)
        {
            return reply.Error("invalid-argument", Describe(update.Problems), update.Problems);
        }

        return reply.Ok(w =>
        {
            w.WriteString("file", update.File);
            w.WriteStartObject("keys");
            bool restartRequired = false;
            foreach (KeyValuePair<string, KeyApplication> key in update.Keys)
            {
                w.WriteString(key.Key, key.Value == KeyApplication.Live ? "live" : "restart-required");
                restartRequired |= key.Value == KeyApplication.RestartRequired;
            }

            w.WriteEndObject();
            w.WriteBoolean("restartRequired", restartRequired);
        });
    }

    private static string Describe(IReadOnlyList<string> problems) =>
        $"{problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}, nothing changed: {string.Join("; ", problems)}";

    /// <summary>Section:Key[:Key...], each level letters, digits and '_' (what the configuration binder and the environment can name).</summary>
    private static bool IsConfigurationPath(string key)
    {
        if (key.Length is 0 or > 256)
        {
            return false;
        }

        int levels = 1;
        int levelLength = 0;
        foreach (char c in key)
        {
            if (c == ':')
            {
                if (levelLength == 0)
                {
                    return false;
                }

                levels++;
                levelLength = 0;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '_')
            {
                levelLength++;
            }
            else
            {
                return false;
            }
        }

        return levels >= 2 && levelLength > 0;
    }

    private CommandOutcome Restart(ReplyBuilder reply, JsonElement root)
    {
        double delay = 0;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("delay", out JsonElement d))
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetDouble(out delay) || !double.IsFinite(delay) || delay < 0 || delay > MaxRestartDelaySeconds)
            {
                return reply.Error("invalid-argument", $"delay must be a number of seconds between 0 and {MaxRestartDelaySeconds}");
            }
        }

        if (_restarter is null)
        {
            return reply.Error("unavailable", "restarting is not available in this configuration");
        }

        if (_restarter.RestartPending)
        {
            return reply.Error("busy", "a restart is already scheduled");
        }

        IServiceRestarter restarter = _restarter;
        TimeSpan after = TimeSpan.FromSeconds(delay);
        CommandOutcome outcome = reply.Ok(w =>
        {
            w.WriteBoolean("restarting", true);
            w.WriteNumber("delaySeconds", delay);
        });

        // Only once the reply is with the broker: the requester learns the restart is coming before the connection goes.
        return outcome with { AfterReply = () => restarter.RequestRestart(after, "cmd/restart") };
    }

    /// <summary>Whether a configuration key holds a secret (shown as <c>***</c>, never set over MQTT).</summary>
    private static bool IsSecret(string key)
    {
        foreach (string word in s_secretWords)
        {
            // PasswordFile is a path, not a secret; the password and its kin are.
            if (key.Contains(word, StringComparison.OrdinalIgnoreCase) && !key.EndsWith("File", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private CommandOutcome ModelStatus(ReplyBuilder reply)
    {
        if (_models is null)
        {
            return reply.Error("unavailable", "model status is not available");
        }

        ModelStatusReport status = _models.Current;
        return reply.Ok(w => WriteModelStatus(w, status));
    }

    /// <summary>Writes the model status properties (shared with health).</summary>
    internal static void WriteModelStatus(Utf8JsonWriter writer, ModelStatusReport status)
    {
        writer.WriteString("phase", status.Phase);
        writer.WriteString("message", status.Message);
        if (status.Model is { } model)
        {
            ResultPayload.WriteModel(writer, s_model, model);
            writer.WriteString("sha256", model.Sha256);
        }

        if (status.Providers is { } providers)
        {
            writer.WriteString("providers", providers);
        }

        if (status.LastFailure is { } failure)
        {
            writer.WriteString("lastFailure", failure);
        }

        if (status.Golden is { } golden)
        {
            writer.WriteStartObject("golden");
            writer.WriteString("lastRunUtc", golden.LastRunUtc);
            writer.WriteNumber("samples", golden.Samples);
            writer.WriteBoolean("passed", golden.Passed);
            if (golden.Reason is { } reason)
            {
                writer.WriteString("reason", reason);
            }

            writer.WriteEndObject();
        }

        if (status.Shadow is { } shadow)
        {
            WriteShadow(writer, shadow);
        }
    }

    private static void WriteShadow(Utf8JsonWriter writer, ShadowAgreementStatus shadow)
    {
        writer.WriteStartObject("shadow");
        writer.WriteString("package", shadow.Package);
        writer.WriteString("phase", shadow.Phase);
        writer.WriteString("message", shadow.Message);
        if (shadow.Model is { } model)
        {
            ResultPayload.WriteModel(writer, s_model, model);
        }

        writer.WriteNumber("fraction", shadow.Fraction);
        writer.WriteNumber("sampled", shadow.Sampled);
        writer.WriteNumber("compared", shadow.Compared);
        writer.WriteNumber("skipped", shadow.Skipped);
        writer.WriteNumber("errors", shadow.Errors);
        if (shadow.AgreementRate is { } rate)
        {
            writer.WriteNumber("agreementRate", Math.Round(rate, 4));
        }

        if (shadow.MeanMaskIoU is { } iou)
        {
            writer.WriteNumber("meanMaskIoU", Math.Round(iou, 4));
        }

        if (shadow.Since is { } since)
        {
            writer.WriteString("since", since);
        }

        writer.WriteStartArray("lastDisagreements");
        foreach (ShadowDisagreementReport disagreement in shadow.LastDisagreements)
        {
            writer.WriteStartObject();
            writer.WriteString("frameId", disagreement.FrameId);
            writer.WriteNumber("seq", disagreement.Sequence);
            writer.WriteString("verdict", ResultPayload.VerdictName(disagreement.Verdict));
            writer.WriteString("shadowVerdict", ResultPayload.VerdictName(disagreement.ShadowVerdict));
            writer.WriteNumber("defects", disagreement.Defects);
            writer.WriteNumber("shadowDefects", disagreement.ShadowDefects);
            writer.WriteNumber("maskIoU", Math.Round(disagreement.MaskIoU, 4));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private CommandOutcome Replay(ReplyBuilder reply, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("from", out JsonElement fromElement) || fromElement.ValueKind != JsonValueKind.Number || !fromElement.TryGetInt64(out long from)
            || !root.TryGetProperty("to", out JsonElement toElement) || toElement.ValueKind != JsonValueKind.Number || !toElement.TryGetInt64(out long to))
        {
            return reply.Error("invalid-argument", "replay needs {\"from\": seq, \"to\": seq} with whole numbers");
        }

        if (from < 0 || to < from || to - from >= MaxReplayRecords)
        {
            return reply.Error("invalid-argument", $"need 0 <= from <= to and at most {MaxReplayRecords} sequence numbers per request (from = {from}, to = {to})");
        }

        IReadOnlyList<OutboxRecord> records = _outbox.ReadResultRange(from, to, MaxReplayRecords);
        long expected = to - from + 1;
        return reply.Ok(w =>
        {
            w.WriteNumber("from", from);
            w.WriteNumber("to", to);
            w.WriteNumber("found", records.Count);
            w.WriteNumber("missing", Math.Max(0, expected - records.Count));
        }, records);
    }

    /// <summary>Builds the one reply of a request.</summary>
    private sealed class ReplyBuilder(string command, TimeProvider time)
    {
        private JsonElement _id;
        private bool _hasId;

        public string? IdText => _hasId ? _id.ToString() : null;

        public bool TrySetId(JsonElement id)
        {
            if ((id.ValueKind == JsonValueKind.String && id.GetString()!.Length <= 128) || id.ValueKind == JsonValueKind.Number)
            {
                _id = id.Clone();
                _hasId = true;
                return true;
            }

            return false;
        }

        public CommandOutcome Ok(Action<Utf8JsonWriter> writeResult, IReadOnlyList<OutboxRecord>? republish = null) =>
            new(Write("ok", w =>
            {
                w.WritePropertyName("result");
                w.WriteStartObject();
                writeResult(w);
                w.WriteEndObject();
            }), true, republish ?? []);

        public CommandOutcome Error(string code, string message, IReadOnlyList<string>? problems = null) =>
            new(Write("error", w =>
            {
                w.WritePropertyName("error");
                w.WriteStartObject();
                w.WriteString("code", code);
                w.WriteString("message", message);
                if (problems is not null)
                {
                    w.WriteStartArray("problems");
                    foreach (string problem in problems)
                    {
                        w.WriteStringValue(problem);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }), false, []);

        private byte[] Write(string status, Action<Utf8JsonWriter> body)
        {
            var buffer = new ArrayBufferWriter<byte>(512);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteNumber("schema", 1);
                // The name comes from the topic; the writer escapes it, and it is cut so a hostile topic cannot bloat the reply.
                writer.WriteString("command", command.Length > 64 ? command[..64] : command);
                if (_hasId)
                {
                    writer.WritePropertyName("id");
                    _id.WriteTo(writer);
                }

                writer.WriteString("status", status);
                writer.WriteString("utc", time.GetUtcNow());
                body(writer);
                writer.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }
    }
}
