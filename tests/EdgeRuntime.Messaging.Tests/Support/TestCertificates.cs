using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>
/// A throw-away PKI written as PEM files into a folder: a CA, a broker certificate for 127.0.0.1 and localhost signed by
/// it, a client certificate signed by it, and a client certificate from another (untrusted) CA. ECDSA P-256 keeps
/// generation fast.
/// </summary>
public sealed class TestCertificates
{
    private TestCertificates(string directory) => Directory = directory;

    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, "ca.pem");

    public string ServerCertFile => Path.Combine(Directory, "server.pem");

    public string ServerKeyFile => Path.Combine(Directory, "server.key");

    public string ClientCertFile => Path.Combine(Directory, "client.pem");

    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    /// <summary>Signed by a CA the broker does not trust.</summary>
    public string RogueCertFile => Path.Combine(Directory, "rogue.pem");

    public string RogueKeyFile => Path.Combine(Directory, "rogue.key");

    /// <summary>The mosquitto listener lines for a mutual-TLS listener on <paramref name="port"/> using these files.</summary>
    public string MutualTlsListener(int port) =>
        $"listener {port} 127.0.0.1\ncafile {CaFile}\ncertfile {ServerCertFile}\nkeyfile {ServerKeyFile}\nrequire_certificate true\nallow_anonymous true\n";

    public static TestCertificates Create(string directory)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var certificates = new TestCertificates(directory);
        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 ca = CreateCa("EdgeRuntime test CA", caKey, now);
        Write(certificates.CaFile, ca);

        using (ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            using X509Certificate2 server = CreateLeaf("CN=127.0.0.1", key, ca, caKey, san.Build(), "1.3.6.1.5.5.7.3.1", now);
            Write(certificates.ServerCertFile, server);
            File.WriteAllText(certificates.ServerKeyFile, key.ExportPkcs8PrivateKeyPem());
        }

        using (ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            using X509Certificate2 client = CreateLeaf("CN=edge-line1", key, ca, caKey, null, "1.3.6.1.5.5.7.3.2", now);
            Write(certificates.ClientCertFile, client);
            File.WriteAllText(certificates.ClientKeyFile, key.ExportPkcs8PrivateKeyPem());
        }

        using (ECDsa rogueCaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        using (X509Certificate2 rogueCa = CreateCa("Some other CA", rogueCaKey, now))
        using (ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            using X509Certificate2 rogue = CreateLeaf("CN=edge-line1", key, rogueCa, rogueCaKey, null, "1.3.6.1.5.5.7.3.2", now);
            Write(certificates.RogueCertFile, rogue);
            File.WriteAllText(certificates.RogueKeyFile, key.ExportPkcs8PrivateKeyPem());
        }

        return certificates;
    }

    private static X509Certificate2 CreateCa(string name, ECDsa key, DateTimeOffset now)
    {
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddHours(-1), now.AddDays(2));
    }

    private static X509Certificate2 CreateLeaf(string subject, ECDsa key, X509Certificate2 issuer, ECDsa issuerKey, X509Extension? san, string usage, DateTimeOffset now)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (san is not null)
        {
            request.CertificateExtensions.Add(san);
        }

        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        X509SignatureGenerator signer = X509SignatureGenerator.CreateForECDsa(issuerKey);
        return request.Create(issuer.SubjectName, signer, now.AddHours(-1), now.AddDays(1), serial);
    }

    private static void Write(string path, X509Certificate2 certificate) => File.WriteAllText(path, certificate.ExportCertificatePem());
}
