namespace EdgeRuntime.Messaging.Options;

/// <summary>MQTT protocol revision spoken to the broker.</summary>
public enum MqttProtocol
{
    /// <summary>MQTT 5.0: response topic, correlation data, message expiry, user properties.</summary>
    V5 = 5,

    /// <summary>MQTT 3.1.1, for brokers without 5.0; replies go to the conventional reply topic.</summary>
    V311 = 311,
}

/// <summary>When the outbox forces its writes to the storage medium (see the outbox's docs for what each survives).</summary>
public enum FsyncPolicy
{
    /// <summary>fsync at most every <see cref="OutboxOptions.FsyncIntervalMs"/>, covering every record appended since (group commit). A power cut loses at most that window; a process crash loses nothing.</summary>
    Interval,

    /// <summary>fsync after every record: nothing acknowledged to the pipeline is lost to a power cut, at the cost of one disk flush per result.</summary>
    Always,

    /// <summary>Never fsync; the kernel writes back when it likes. A process crash loses nothing, a power cut may lose the last ~30 s.</summary>
    Never,
}

/// <summary>The <c>Mqtt</c> section: broker, identity, session, security, outbox and the embedded broker.</summary>
public sealed class MqttOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Mqtt";

    /// <summary>Environment variable that carries the password when no <see cref="PasswordFile"/> is used.</summary>
    public const string PasswordEnvironmentVariable = "EDGERUNTIME_Mqtt__Password";

    /// <summary>Whether results, health and commands go over MQTT at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Broker host name or address; empty = the embedded broker (when enabled).</summary>
    public string Host { get; set; } = string.Empty;

    /// <summary>Broker TCP port (8883 is usual with TLS).</summary>
    public int Port { get; set; } = 1883;

    /// <summary>MQTT client id; empty = <c>edge-{hostname}</c>. Must be unique per broker, or the broker evicts the older connection.</summary>
    public string ClientId { get; set; } = string.Empty;

    /// <summary>First topic level; topics are <c>{TopicPrefix}/{DeviceId}/...</c>.</summary>
    public string TopicPrefix { get; set; } = "edge";

    /// <summary>Device id in topics; empty = the host name.</summary>
    public string DeviceId { get; set; } = string.Empty;

    /// <summary>MQTT keep-alive in seconds; a silent partition is detected within 1.5x this.</summary>
    public int KeepAliveSeconds { get; set; } = 30;

    /// <summary>Seconds a connect attempt (TCP, TLS, CONNACK) may take.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Seconds a QoS 1 publish may wait for its PUBACK before the connection is treated as broken.</summary>
    public int PublishTimeoutSeconds { get; set; } = 10;

    /// <summary>Back-off between connect attempts.</summary>
    public ReconnectOptions Reconnect { get; set; } = new();

    /// <summary>Start a clean session on every connect (true) or resume the broker-side session (false).</summary>
    public bool CleanStart { get; set; } = true;

    /// <summary>Seconds the broker keeps the session after a disconnect (MQTT 5; 0 = ends with the connection).</summary>
    public int SessionExpirySeconds { get; set; }

    /// <summary>TLS settings.</summary>
    public MqttTlsOptions Tls { get; set; } = new();

    /// <summary>User name; empty = anonymous.</summary>
    public string Username { get; set; } = string.Empty;

    /// <summary>File whose first line is the password (mode 0600, owned by the service user).</summary>
    public string PasswordFile { get; set; } = string.Empty;

    /// <summary>The password itself; set it only through <see cref="PasswordEnvironmentVariable"/>, never in a file under version control. Never logged or reported.</summary>
    public string Password { get; set; } = string.Empty;

    /// <summary>Protocol revision.</summary>
    public MqttProtocol ProtocolVersion { get; set; } = MqttProtocol.V5;

    /// <summary>Seconds between health messages (also their message expiry).</summary>
    public int HealthIntervalSeconds { get; set; } = 10;

    /// <summary>Largest command payload accepted, in bytes; bigger ones are refused unread.</summary>
    public int MaxCommandBytes { get; set; } = 16 * 1024;

    /// <summary>The store-and-forward outbox.</summary>
    public OutboxOptions Outbox { get; set; } = new();

    /// <summary>The in-process broker for the default run.</summary>
    public EmbeddedBrokerOptions EmbeddedBroker { get; set; } = new();

    /// <summary>Whether the embedded broker runs: explicitly set, or implied by an empty <see cref="Host"/>.</summary>
    public bool UsesEmbeddedBroker => EmbeddedBroker.Enabled ?? string.IsNullOrWhiteSpace(Host);

    /// <summary>The client id in effect.</summary>
    public string EffectiveClientId => string.IsNullOrWhiteSpace(ClientId) ? "edge-" + System.Net.Dns.GetHostName() : ClientId;

    /// <summary>The device id in effect.</summary>
    public string EffectiveDeviceId => string.IsNullOrWhiteSpace(DeviceId) ? System.Net.Dns.GetHostName() : DeviceId;
}

/// <summary>Exponential back-off with jitter between connect attempts.</summary>
public sealed class ReconnectOptions
{
    /// <summary>Milliseconds before the first retry.</summary>
    public int InitialDelayMs { get; set; } = 500;

    /// <summary>Cap on the delay, in milliseconds.</summary>
    public int MaxDelayMs { get; set; } = 30_000;

    /// <summary>Share of the delay drawn at random (0..1), so a fleet that lost its broker does not reconnect in lock-step.</summary>
    public double Jitter { get; set; } = 0.2;
}

/// <summary>TLS to the broker; PEM files.</summary>
public sealed class MqttTlsOptions
{
    /// <summary>Whether the connection uses TLS.</summary>
    public bool Enabled { get; set; }

    /// <summary>CA certificate(s) (PEM) the broker's certificate must chain to; empty = the system store.</summary>
    public string CaFile { get; set; } = string.Empty;

    /// <summary>Client certificate (PEM) for mutual TLS; empty = none.</summary>
    public string ClientCertFile { get; set; } = string.Empty;

    /// <summary>Client private key (PEM) matching <see cref="ClientCertFile"/>.</summary>
    public string ClientKeyFile { get; set; } = string.Empty;

    /// <summary>Name the broker's certificate must carry; empty = <see cref="MqttOptions.Host"/>.</summary>
    public string ServerName { get; set; } = string.Empty;
}

/// <summary>The on-disk store-and-forward queue.</summary>
public sealed class OutboxOptions
{
    /// <summary>Folder of the segment files; relative paths are under <c>Pipeline:StateDirectory</c>.</summary>
    public string Directory { get; set; } = "mqtt-outbox";

    /// <summary>Disk budget in MiB; beyond it the oldest segment goes (unsent records in it are counted and alarmed).</summary>
    public int MaxMegabytes { get; set; } = 512;

    /// <summary>Records older than this many hours are dropped (unsent ones counted); also the results' message expiry.</summary>
    public int MaxAgeHours { get; set; } = 72;

    /// <summary>Size of one segment file in MiB; whole segments are the unit of deletion.</summary>
    public int SegmentMegabytes { get; set; } = 8;

    /// <summary>When writes are forced to the medium.</summary>
    public FsyncPolicy FsyncPolicy { get; set; } = FsyncPolicy.Interval;

    /// <summary>For <see cref="FsyncPolicy.Interval"/>: the most milliseconds an appended record waits for its fsync.</summary>
    public int FsyncIntervalMs { get; set; } = 200;
}

/// <summary>MQTTnet.Server inside the runtime, so the default run works with no broker installed.</summary>
public sealed class EmbeddedBrokerOptions
{
    /// <summary>true/false; unset = on exactly when <see cref="MqttOptions.Host"/> is empty.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Address the broker listens on; loopback keeps it off the plant network.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Port the broker listens on.</summary>
    public int Port { get; set; } = 1883;
}
