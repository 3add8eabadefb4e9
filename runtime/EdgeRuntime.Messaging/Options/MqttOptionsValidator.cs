using System.Net;
using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Messaging.Options;

/// <summary>Validates <see cref="MqttOptions"/> at start-up: every problem at once, each naming key, value and what is allowed.</summary>
public sealed class MqttOptionsValidator : IValidateOptions<MqttOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, MqttOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(MqttOptions.SectionName);
        if (!options.Enabled)
        {
            return problems.ToResult();
        }

        if (string.IsNullOrWhiteSpace(options.Host))
        {
            problems.Check(options.EmbeddedBroker.Enabled != false, nameof(options.Host), options.Host,
                "must name the broker when EmbeddedBroker:Enabled is false (or set Mqtt:Enabled to false)");
        }
        else
        {
            problems.Check(Uri.CheckHostName(options.Host) != UriHostNameType.Unknown, nameof(options.Host), options.Host, "must be a host name or IP address");
        }

        problems.InRange(options.Port, nameof(options.Port), 1, 65535);
        CheckTopicLevel(problems, options.ClientId, nameof(options.ClientId), allowEmpty: true);
        CheckTopicLevel(problems, options.TopicPrefix, nameof(options.TopicPrefix), allowEmpty: false, allowSlash: true);
        CheckTopicLevel(problems, options.DeviceId, nameof(options.DeviceId), allowEmpty: true);
        problems.InRange(options.KeepAliveSeconds, nameof(options.KeepAliveSeconds), 2, 3600, " seconds");
        problems.InRange(options.ConnectTimeoutSeconds, nameof(options.ConnectTimeoutSeconds), 1, 300, " seconds");
        problems.InRange(options.PublishTimeoutSeconds, nameof(options.PublishTimeoutSeconds), 1, 300, " seconds");
        problems.InRange(options.SessionExpirySeconds, nameof(options.SessionExpirySeconds), 0, int.MaxValue, " seconds");
        problems.InRange(options.HealthIntervalSeconds, nameof(options.HealthIntervalSeconds), 1, 3600, " seconds");
        problems.InRange(options.MaxCommandBytes, nameof(options.MaxCommandBytes), 256, 1024 * 1024, " bytes");
        problems.Defined(options.ProtocolVersion, nameof(options.ProtocolVersion));

        ReconnectOptions reconnect = options.Reconnect;
        problems.InRange(reconnect.InitialDelayMs, "Reconnect:InitialDelayMs", 10, 600_000, " milliseconds");
        problems.InRange(reconnect.MaxDelayMs, "Reconnect:MaxDelayMs", Math.Max(10, reconnect.InitialDelayMs), 3_600_000, " milliseconds (and at least InitialDelayMs)");
        problems.InRange(reconnect.Jitter, "Reconnect:Jitter", 0, 1);

        problems.Check(string.IsNullOrEmpty(options.PasswordFile) || string.IsNullOrEmpty(options.Password), nameof(options.PasswordFile), options.PasswordFile,
            "must be empty when the password comes from " + MqttOptions.PasswordEnvironmentVariable + " (use one)");
        problems.Check(string.IsNullOrEmpty(options.PasswordFile) || File.Exists(options.PasswordFile), nameof(options.PasswordFile), options.PasswordFile, "must be an existing file");
        problems.Check(!string.IsNullOrEmpty(options.Username) || (string.IsNullOrEmpty(options.PasswordFile) && string.IsNullOrEmpty(options.Password)),
            nameof(options.Username), options.Username, "must be set when a password is given");

        MqttTlsOptions tls = options.Tls;
        if (tls.Enabled)
        {
            CheckFile(problems, tls.CaFile, "Tls:CaFile", optional: true);
            CheckFile(problems, tls.ClientCertFile, "Tls:ClientCertFile", optional: true);
            CheckFile(problems, tls.ClientKeyFile, "Tls:ClientKeyFile", optional: true);
            problems.Check(string.IsNullOrEmpty(tls.ClientCertFile) == string.IsNullOrEmpty(tls.ClientKeyFile), "Tls:ClientKeyFile", tls.ClientKeyFile,
                "must be given together with Tls:ClientCertFile (both or neither)");
            problems.Check(!options.UsesEmbeddedBroker || !string.IsNullOrWhiteSpace(options.Host), "Tls:Enabled", true, "needs Mqtt:Host (the embedded broker speaks plain TCP on loopback)");
        }

        OutboxOptions outbox = options.Outbox;
        problems.NotEmpty(outbox.Directory, "Outbox:Directory", "a directory path (relative = under Pipeline:StateDirectory)");
        problems.InRange(outbox.MaxMegabytes, "Outbox:MaxMegabytes", 4, 1_000_000, " MiB");
        problems.InRange(outbox.SegmentMegabytes, "Outbox:SegmentMegabytes", 1, Math.Max(1, outbox.MaxMegabytes / 4), " MiB (at most a quarter of MaxMegabytes)");
        problems.InRange(outbox.MaxAgeHours, "Outbox:MaxAgeHours", 1, 24 * 365, " hours");
        problems.Defined(outbox.FsyncPolicy, "Outbox:FsyncPolicy");
        problems.InRange(outbox.FsyncIntervalMs, "Outbox:FsyncIntervalMs", 1, 60_000, " milliseconds");

        EmbeddedBrokerOptions broker = options.EmbeddedBroker;
        if (options.UsesEmbeddedBroker)
        {
            problems.Check(IPAddress.TryParse(broker.Address, out _), "EmbeddedBroker:Address", broker.Address, "must be an IP address (127.0.0.1 keeps it on this machine)");
            problems.InRange(broker.Port, "EmbeddedBroker:Port", 1, 65535);
        }

        return problems.ToResult();
    }

    private static void CheckFile(OptionsProblems problems, string path, string key, bool optional)
    {
        if (string.IsNullOrEmpty(path))
        {
            problems.Check(optional, key, path, "must be a PEM file");
            return;
        }

        problems.Check(File.Exists(path), key, path, "must be an existing PEM file");
    }

    private static void CheckTopicLevel(OptionsProblems problems, string value, string key, bool allowEmpty, bool allowSlash = false)
    {
        if (string.IsNullOrEmpty(value))
        {
            problems.Check(allowEmpty, key, value, "must not be empty");
            return;
        }

        bool ok = value.Length <= 128 && value.IndexOfAny(['+', '#', '\0', ' ']) < 0 && (allowSlash ? !value.StartsWith('/') && !value.EndsWith('/') && !value.Contains("//", StringComparison.Ordinal) : !value.Contains('/', StringComparison.Ordinal));
        problems.Check(ok, key, value, allowSlash
            ? "must be 1-128 characters without '+', '#', spaces, or leading, trailing or doubled '/'"
            : "must be at most 128 characters without '/', '+', '#' or spaces");
    }
}
