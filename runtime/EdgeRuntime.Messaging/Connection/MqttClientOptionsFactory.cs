using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using EdgeRuntime.Messaging.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeRuntime.Messaging.Connection;

/// <summary>
/// Maps <see cref="MqttOptions"/> onto MQTTnet's client options: the one place that does (broker, identity,
/// session, keep-alive, credentials, TLS, Last Will). Files (password, PEM) are read at each connect so a rotated
/// certificate or password is picked up without a restart.
/// </summary>
public static class MqttClientOptionsFactory
{
    /// <summary>Payload of the retained status message while connected.</summary>
    public static ReadOnlySpan<byte> OnlineState => "online"u8;

    /// <summary>Builds the options for one connect attempt.</summary>
    /// <exception cref="IOException">A password or PEM file cannot be read.</exception>
    /// <exception cref="System.Security.Cryptography.CryptographicException">A PEM file is not a certificate or key.</exception>
    public static MqttClientOptions Create(MqttOptions options, MqttTopics topics, MqttProtocol protocol, byte[] willPayload)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(topics);
        string host = options.UsesEmbeddedBroker && string.IsNullOrWhiteSpace(options.Host) ? options.EmbeddedBroker.Address : options.Host;
        int port = options.UsesEmbeddedBroker && string.IsNullOrWhiteSpace(options.Host) ? options.EmbeddedBroker.Port : options.Port;
        MqttClientOptionsBuilder builder = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId(options.EffectiveClientId)
            .WithProtocolVersion(protocol == MqttProtocol.V311 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(options.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(options.ConnectTimeoutSeconds))
            .WithCleanStart(options.CleanStart)
            .WithWillTopic(topics.Status)
            .WithWillPayload(willPayload)
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (protocol == MqttProtocol.V5)
        {
            builder.WithSessionExpiryInterval((uint)options.SessionExpirySeconds)
                .WithWillContentType("application/json");
        }

        if (!string.IsNullOrEmpty(options.Username))
        {
            string? password = ReadPassword(options);
            builder.WithCredentials(options.Username, password is null ? null : Encoding.UTF8.GetBytes(password));
        }

        if (options.Tls.Enabled)
        {
            builder.WithTlsOptions(tls => ConfigureTls(tls, options, host));
        }

        return builder.Build();
    }

    private static string? ReadPassword(MqttOptions options)
    {
        if (!string.IsNullOrEmpty(options.PasswordFile))
        {
            using var reader = new StreamReader(options.PasswordFile);
            return reader.ReadLine() ?? string.Empty;
        }

        return string.IsNullOrEmpty(options.Password) ? null : options.Password;
    }

    private static void ConfigureTls(MqttClientTlsOptionsBuilder tls, MqttOptions options, string host)
    {
        MqttTlsOptions settings = options.Tls;
        string serverName = string.IsNullOrWhiteSpace(settings.ServerName) ? host : settings.ServerName;
        tls.UseTls().WithTargetHost(serverName);
        if (!string.IsNullOrEmpty(settings.ClientCertFile))
        {
            // Round-tripped through PKCS#12 because SslStream on some platforms refuses an ephemeral PEM key.
            using var pem = X509Certificate2.CreateFromPemFile(settings.ClientCertFile, settings.ClientKeyFile);
            X509Certificate2 certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            tls.WithClientCertificates([certificate]);
        }

        if (!string.IsNullOrEmpty(settings.CaFile))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(settings.CaFile);
            tls.WithCertificateValidationHandler(context => Validate(context.Certificate, context.SslPolicyErrors, roots));
        }
    }

    /// <summary>Accepts the broker's certificate only when it chains to one of <paramref name="roots"/> and names the expected server.</summary>
    private static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }
}
