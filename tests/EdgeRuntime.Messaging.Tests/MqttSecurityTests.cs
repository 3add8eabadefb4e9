using System.Diagnostics;
using System.Text.Json;
using EdgeRuntime.Messaging.Connection;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Tests.Support;
using EdgeRuntime.Vision.Tests;
using Xunit.Abstractions;

namespace EdgeRuntime.Messaging.Tests;

/// <summary>
/// TLS, mutual TLS and passwords against a real mosquitto: each broker has a plain anonymous listener for the test's own
/// subscriber and a secured one for the runtime. Certificates are generated per test.
/// </summary>
public sealed class MqttSecurityTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("mqtt-security-").FullName;

    private string OutboxDirectory => Path.Combine(_directory, "outbox");

    private (MosquittoBroker Broker, int SecurePort, TestCertificates Certificates) MutualTlsBroker()
    {
        TestCertificates certificates = TestCertificates.Create(_directory);
        int securePort = MosquittoBroker.FreePort();
        return (new MosquittoBroker(extraConfig: certificates.MutualTlsListener(securePort)), securePort, certificates);
    }

    private static MqttOptions TlsOptions(int port, TestCertificates certificates, string certFile, string keyFile, string serverName = "")
    {
        MqttOptions options = RuntimeUnderTest.OptionsFor(port);
        options.Tls = new MqttTlsOptions
        {
            Enabled = true,
            CaFile = certificates.CaFile,
            ClientCertFile = certFile,
            ClientKeyFile = keyFile,
            ServerName = serverName,
        };
        Assert.False(new MqttOptionsValidator().Validate(null, options).Failed);
        return options;
    }

    /// <summary>
    /// Waits for a connect attempt that failed for the reason <paramref name="because"/> (a regular expression): on a
    /// loaded machine an earlier attempt may fail for another reason first (a timeout), and the service keeps trying.
    /// </summary>
    private static async Task<string> RefusedAsync(RuntimeUnderTest runtime, string because)
    {
        await MosquittoBroker.WaitUntilAsync(
            () => Task.FromResult(runtime.State.Snapshot().LastError is string error && System.Text.RegularExpressions.Regex.IsMatch(error, because)),
            s_wait, "a connect attempt refused because " + because);
        Assert.False(runtime.State.IsConnected);
        Assert.Equal(0, runtime.State.Connects);
        JsonElement mqtt = runtime.HealthNow().GetProperty("mqtt");
        Assert.False(mqtt.GetProperty("connected").GetBoolean());

        // Refused is not fatal: the service keeps trying.
        Assert.False(runtime.Service.ExecuteTask!.IsCompleted);
        return mqtt.GetProperty("lastError").GetString()!;
    }

    [Fact]
    public async Task MutualTlsConnectsAndResultsReachASubscriber()
    {
        (MosquittoBroker broker, int securePort, TestCertificates certificates) = MutualTlsBroker();
        using (broker)
        {
            await broker.StartAsync();
            await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result");
            MqttOptions options = TlsOptions(securePort, certificates, certificates.ClientCertFile, certificates.ClientKeyFile);
            await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory);
            await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);

            await runtime.PublishResultsAsync(1, 20);
            await subscriber.WaitForAsync(s => s.On("edge/line1/result").Length >= 20, s_wait, "20 results over mutual TLS");
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i),
                subscriber.On("edge/line1/result").Select(m => TestSubscriber.Json(m).GetProperty("seq").GetInt64()));
            Assert.Contains("New connection from 127.0.0.1:", broker.Log, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Starts a broker that requires client certificates and a runtime configured by <paramref name="configure"/>,
    /// publishes three results, and returns the refusal (health's lastError, which must contain
    /// <paramref name="because"/>) and the broker's log. The results wait in the outbox: a refused connection loses nothing.
    /// </summary>
    private async Task<(string Why, string BrokerLog)> RefusedByMutualTlsBrokerAsync(
        Func<int, TestCertificates, MqttOptions> configure, string because)
    {
        (MosquittoBroker broker, int securePort, TestCertificates certificates) = MutualTlsBroker();
        using (broker)
        {
            await broker.StartAsync();
            await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(configure(securePort, certificates), OutboxDirectory);
            await runtime.PublishResultsAsync(1, 3);

            string why = await RefusedAsync(runtime, System.Text.RegularExpressions.Regex.Escape(because));
            output.WriteLine(why);
            Assert.Contains(because, why, StringComparison.Ordinal);
            Assert.Equal(3, runtime.Outbox.Status.Pending);
            return (why, broker.Log);
        }
    }

    [Fact]
    public async Task ClientCertificateFromAnotherCaIsRefusedAndHealthSaysWhy()
    {
        (_, string brokerLog) = await RefusedByMutualTlsBrokerAsync(
            (port, certificates) => TlsOptions(port, certificates, certificates.RogueCertFile, certificates.RogueKeyFile),
            because: "client certificate");
        Assert.Contains("certificate verify failed", brokerLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoClientCertificateIsRefusedByABrokerThatRequiresOne()
    {
        await RefusedByMutualTlsBrokerAsync(
            (port, certificates) => TlsOptions(port, certificates, string.Empty, string.Empty),
            because: "client certificate");
    }

    [Fact]
    public async Task BrokerWhoseCertificateDoesNotNameTheServerIsRefused()
    {
        await RefusedByMutualTlsBrokerAsync(
            (port, certificates) => TlsOptions(port, certificates, certificates.ClientCertFile, certificates.ClientKeyFile, serverName: "broker.plant.example"),
            because: "is not for \"broker.plant.example\"");
    }

    [Fact]
    public async Task BrokerCertificateFromAnUntrustedCaIsRefused()
    {
        await RefusedByMutualTlsBrokerAsync(
            (port, certificates) =>
            {
                // The runtime trusts only the other CA: the real broker's certificate does not chain to it.
                string otherCa = Path.Combine(_directory, "other-ca.pem");
                File.Copy(certificates.RogueCertFile, otherCa);
                MqttOptions options = TlsOptions(port, certificates, certificates.ClientCertFile, certificates.ClientKeyFile);
                options.Tls.CaFile = otherCa;
                return options;
            },
            because: "does not chain to Mqtt:Tls:CaFile");
    }

    [Fact]
    public async Task TlsToABrokerThatIsDownIsNotBlamedOnTheCertificate()
    {
        TestCertificates certificates = TestCertificates.Create(_directory);
        MqttOptions options = TlsOptions(MosquittoBroker.FreePort(), certificates, certificates.ClientCertFile, certificates.ClientKeyFile);
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory);
        string why = await RefusedAsync(runtime, ".");
        output.WriteLine(why);
        Assert.DoesNotContain("certificate", why, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<MosquittoBroker> PasswordBrokerAsync(string directory, int securePort, string user, string password)
    {
        string passwords = Path.Combine(directory, "passwords");
        using (Process? tool = Process.Start(new ProcessStartInfo("mosquitto_passwd", ["-c", "-b", passwords, user, password]) { UseShellExecute = false }))
        {
            await tool!.WaitForExitAsync();
            Assert.Equal(0, tool.ExitCode);
        }

        var broker = new MosquittoBroker(extraConfig: $"listener {securePort} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n", perListenerSettings: true);
        await broker.StartAsync();
        return broker;
    }

    [Fact]
    public async Task PasswordFromAFileIsAcceptedAndNeverLogged()
    {
        const string password = "s3cret-Pa55-from-file";
        int securePort = MosquittoBroker.FreePort();
        using MosquittoBroker broker = await PasswordBrokerAsync(_directory, securePort, "edge", password);
        string passwordFile = Path.Combine(_directory, "mqtt-password");
        await File.WriteAllTextAsync(passwordFile, password + "\n");
        MqttOptions options = RuntimeUnderTest.OptionsFor(securePort);
        options.Username = "edge";
        options.PasswordFile = passwordFile;
        var logger = new ListLogger<MqttConnectionService>();
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result");
        await using (RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory, logger: logger))
        {
            await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);
            await runtime.PublishResultsAsync(1, 5);
            await subscriber.WaitForAsync(s => s.On("edge/line1/result").Length >= 5, s_wait, "5 results over an authenticated connection");
            Assert.DoesNotContain(password, runtime.HealthNow().GetRawText(), StringComparison.Ordinal);
        }

        Assert.NotEmpty(logger.Entries);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongPasswordFromTheEnvironmentIsRefusedAndNeverLogged()
    {
        const string wrong = "not-the-Pa55word";
        int securePort = MosquittoBroker.FreePort();
        using MosquittoBroker broker = await PasswordBrokerAsync(_directory, securePort, "edge", "the-real-one");

        // What binding EDGERUNTIME_Mqtt__Password produces.
        MqttOptions options = RuntimeUnderTest.OptionsFor(securePort);
        options.Username = "edge";
        options.Password = wrong;
        var logger = new ListLogger<MqttConnectionService>();
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory, logger: logger);
        string why = await RefusedAsync(runtime, "refused the connection: (NotAuthorized|BadUserNameOrPassword) .*as user \"edge\"");
        output.WriteLine(why);
        // mosquitto 2 answers NotAuthorized; other brokers BadUserNameOrPassword.
        Assert.Matches("refused the connection: (NotAuthorized|BadUserNameOrPassword) .*as user \"edge\"", why);
        Assert.DoesNotContain(wrong, runtime.HealthNow().GetRawText(), StringComparison.Ordinal);
        Assert.Contains(logger.Entries, e => e.Id.Id == 5001);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains(wrong, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RightPasswordFromTheEnvironmentIsAccepted()
    {
        int securePort = MosquittoBroker.FreePort();
        using MosquittoBroker broker = await PasswordBrokerAsync(_directory, securePort, "edge", "env-Pa55");
        MqttOptions options = RuntimeUnderTest.OptionsFor(securePort);
        options.Username = "edge";
        options.Password = "env-Pa55";
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, OutboxDirectory);
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);
        Assert.True(runtime.State.IsConnected);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
