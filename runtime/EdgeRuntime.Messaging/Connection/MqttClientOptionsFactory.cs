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
    /// <param name="options">The Mqtt section.</param>
    /// <param name="topics">The device's topic tree (the Last Will goes to its status topic).</param>
    /// <param name="protocol">The protocol revision of this attempt.</param>
    /// <param name="willPayload">The Last Will's payload.</param>
    /// <param name="handshake">Told how the broker's certificate was judged (TLS only): the TLS error that follows a
    /// refusal does not say why, and a broker that refuses the client certificate just closes the connection.</param>
    /// <returns>The options; a client certificate loaded for them is released by <see cref="Release"/> once the client is gone.</returns>
    /// <exception cref="IOException">A password or PEM file cannot be read.</exception>
    /// <exception cref="System.Security.Cryptography.CryptographicException">A PEM file is not a certificate or key.</exception>
    public static MqttClientOptions Create(MqttOptions options, MqttTopics topics, MqttProtocol protocol, byte[] willPayload, TlsHandshakeReport? handshake = null)
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

        X509Certificate2? clientCertificate = null;
        try
        {
            if (options.Tls.Enabled)
            {
                clientCertificate = LoadClientCertificate(options.Tls);
                string serverName = string.IsNullOrWhiteSpace(options.Tls.ServerName) ? host : options.Tls.ServerName;
                string? caFile = string.IsNullOrEmpty(options.Tls.CaFile) ? null : options.Tls.CaFile;
                if (caFile is not null)
                {
                    // Read now so that a broken CA file fails the attempt with its own error, not as a refused broker.
                    LoadRoots(caFile).Dispose();
                }

                builder.WithTlsOptions(tls =>
                {
                    tls.UseTls().WithTargetHost(serverName)
                        .WithCertificateValidationHandler(context => Validate(context.Certificate, context.SslPolicyErrors, caFile, serverName, handshake));
                    if (clientCertificate is not null)
                    {
                        tls.WithClientCertificates([clientCertificate]);
                    }
                });
            }

            return builder.Build();
        }
        catch
        {
            clientCertificate?.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the client certificate <see cref="Create"/> loaded for <paramref name="options"/> (call after the client is disposed).</summary>
    public static void Release(MqttClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ChannelOptions?.TlsOptions?.ClientCertificatesProvider?.GetCertificates() is { } certificates)
        {
            foreach (X509Certificate certificate in certificates)
            {
                certificate.Dispose();
            }
        }
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

    private static X509Certificate2? LoadClientCertificate(MqttTlsOptions settings)
    {
        if (string.IsNullOrEmpty(settings.ClientCertFile))
        {
            return null;
        }

        // Round-tripped through PKCS#12 because SslStream on some platforms refuses an ephemeral PEM key.
        using var pem = X509Certificate2.CreateFromPemFile(settings.ClientCertFile, settings.ClientKeyFile);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static Roots LoadRoots(string caFile)
    {
        var roots = new Roots();
        roots.Certificates.ImportFromPemFile(caFile);
        if (roots.Certificates.Count == 0)
        {
            throw new System.Security.Cryptography.CryptographicException($"Mqtt:Tls:CaFile {caFile} holds no PEM certificate");
        }

        return roots;
    }

    /// <summary>The CA certificates of one validation; disposes them.</summary>
    private sealed class Roots : IDisposable
    {
        public X509Certificate2Collection Certificates { get; } = [];

        public void Dispose()
        {
            foreach (X509Certificate2 certificate in Certificates)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>
    /// Accepts the broker's certificate only when it names the expected server and chains to a certificate in
    /// <paramref name="caFile"/> (or, without one, to the system's store); tells <paramref name="handshake"/> the verdict and why.
    /// </summary>
    private static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, string? caFile, string serverName, TlsHandshakeReport? handshake)
    {
        string? why = null;
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            why = "the broker sent no certificate";
        }
        else if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            why = $"the broker's certificate ({certificate.Subject}) is not for \"{serverName}\" (set Mqtt:Tls:ServerName to a name it carries)";
        }
        else if (caFile is null)
        {
            if (errors != SslPolicyErrors.None)
            {
                why = $"the broker's certificate ({certificate.Subject}) is not trusted by the system's CA store ({errors}); set Mqtt:Tls:CaFile";
            }
        }
        else
        {
            using Roots roots = LoadRoots(caFile);
            using var leaf = new X509Certificate2(certificate);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots.Certificates);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (!chain.Build(leaf))
            {
                string status = string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()));
                why = $"the broker's certificate ({certificate.Subject}, issued by {certificate.Issuer}) does not chain to Mqtt:Tls:CaFile ({status})";
            }
        }

        handshake?.Judged(why);
        return why is null;
    }
}

/// <summary>
/// How the broker's certificate was judged in one connect attempt. Written during the TLS handshake, read after the
/// attempt; thread-safe.
/// </summary>
public sealed class TlsHandshakeReport
{
    private volatile string? _rejection;
    private volatile bool _accepted;

    /// <summary>Why the broker's certificate was refused; null when it was not.</summary>
    public string? Rejection => _rejection;

    /// <summary>Whether the broker's certificate was accepted: the client's side of the handshake went through.</summary>
    public bool ServerCertificateAccepted => _accepted;

    /// <summary>Forgets the previous attempt.</summary>
    public void Reset()
    {
        _rejection = null;
        _accepted = false;
    }

    internal void Judged(string? rejection)
    {
        _rejection = rejection;
        _accepted = rejection is null;
    }
}
