using System.Diagnostics;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using EdgeRuntime.Messaging.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeRuntime.IntegrationTests;

/// <summary>
/// The real edge-runtime process killed with SIGKILL mid-stream (what a power cut or the OOM killer does to the
/// process) and started again, publishing to a real mosquitto: nothing the process had made durable is lost.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private const string ResultTopic = "edge/line7/result";
    private static readonly TimeSpan s_wait = TimeSpan.FromMinutes(2);
    private readonly string _state = Directory.CreateTempSubdirectory("edge-crash-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task ResultsArriveInOrderWithNoneMissingWhenTheRuntimeIsKilledMidStreamAndRestarted()
    {
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, ResultTopic);

        using var printed = new ResultLineCounter();
        using (Process first = StartRuntime(broker.Port, printed))
        {
            await subscriber.WaitForAsync(s => s.On(ResultTopic).Length >= 6, s_wait, "the first results");
            // Freeze the broker so that results pile up unacknowledged in the outbox, then kill the runtime with
            // them there: only the outbox can deliver them now.
            broker.Freeze();
            int printedAtFreeze = printed.Count;
            await printed.WaitForAsync(printedAtFreeze + 5, s_wait);
            first.Kill(); // SIGKILL: no drain, no goodbye, no flush.
            await first.WaitForExitAsync();
        }

        int receivedBeforeRestart = Distinct(subscriber).Length;
        broker.Thaw();

        // What the killed process had made durable: every result in its outbox is owed to the consumer.
        long[] durable = ResultKeysInOutbox();
        Assert.NotEmpty(durable);
        Assert.Equal(Enumerable.Range(1, durable.Length).Select(i => (long)i), durable);
        long lastBeforeKill = durable[^1];
        Assert.True(lastBeforeKill >= receivedBeforeRestart + 3, $"{lastBeforeKill} durable results, {receivedBeforeRestart} delivered: nothing was left for the restart to deliver");

        using var printedAfterRestart = new ResultLineCounter();
        using (Process second = StartRuntime(broker.Port, printedAfterRestart))
        {
            // The restart first delivers what the crash left unsent, then new results (a new sequence block).
            await subscriber.WaitForAsync(
                s => Distinct(s).Count(seq => seq <= lastBeforeKill) == lastBeforeKill && Distinct(s).Count(seq => seq > lastBeforeKill) >= 3,
                s_wait, $"results 1..{lastBeforeKill} and new ones after the restart");
            Assert.Equal(0, RuntimeProcess.Interrupt(second.Id));
            await RuntimeProcess.WaitForExitAsync(second, TimeSpan.FromSeconds(60), printedAfterRestart.Output);
            Assert.Equal(0, second.ExitCode);
        }

        long[] firstArrivals = Distinct(subscriber);
        Assert.Equal(Enumerable.Range(1, (int)lastBeforeKill).Select(i => (long)i), firstArrivals.Where(seq => seq <= lastBeforeKill));
        // In order: de-duplicated by seq, each result arrives after every result with a smaller seq.
        Assert.Equal(firstArrivals.Order(), firstArrivals);
        // A crash may skip the rest of a reserved sequence block; it never reuses a number.
        Assert.All(firstArrivals.Where(seq => seq > lastBeforeKill), seq => Assert.True(seq > lastBeforeKill));
    }

    /// <summary>Result seqs in order of first arrival (at-least-once delivery may repeat one).</summary>
    private static long[] Distinct(TestSubscriber subscriber) =>
        subscriber.On(ResultTopic).Select(m => TestSubscriber.Json(m).GetProperty("seq").GetInt64()).Distinct().ToArray();

    private long[] ResultKeysInOutbox()
    {
        var options = new OutboxOptions();
        using DurableOutbox outbox = DurableOutbox.Open(Path.Combine(_state, options.Directory), options, TimeProvider.System, NullLogger.Instance);
        return outbox.ReadResultRange(0, long.MaxValue, int.MaxValue).Select(r => r.Key).ToArray();
    }

    private Process StartRuntime(int brokerPort, ResultLineCounter printed)
    {
        Process process = RuntimeProcess.Start("run", new Dictionary<string, string>
        {
            ["EDGERUNTIME_Model__Package"] = RepositoryPaths.SampleModel,
            ["EDGERUNTIME_Source__Replay__Directory"] = RepositoryPaths.Samples,
            ["EDGERUNTIME_Pipeline__StateDirectory"] = _state,
            ["EDGERUNTIME_Archive__Enabled"] = "false",
            ["EDGERUNTIME_Mqtt__Host"] = "127.0.0.1",
            ["EDGERUNTIME_Mqtt__Port"] = brokerPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["EDGERUNTIME_Mqtt__DeviceId"] = "line7",
            // A shared test machine can be slow; this test is about delivery, not the deadline.
            ["EDGERUNTIME_Pipeline__DeadlineMs"] = "120000",
            ["EDGERUNTIME_Reject__DelayMs"] = "120000",
        });
        process.OutputDataReceived += (_, e) => printed.Observe(e.Data);
        process.ErrorDataReceived += (_, e) => printed.Output.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Counts the one-line-per-result console output (lines starting with '#').</summary>
    private sealed class ResultLineCounter : IDisposable
    {
        private readonly SemaphoreSlim _printed = new(0);
        private int _count;

        public int Count => Volatile.Read(ref _count);

        /// <summary>The process's last lines, both streams.</summary>
        public OutputTail Output { get; } = new();

        public void Observe(string? line)
        {
            Output.Add(line);
            if (line is not null && line.StartsWith('#'))
            {
                Interlocked.Increment(ref _count);
                _printed.Release();
            }
        }

        public void Dispose() => _printed.Dispose();

        public async Task WaitForAsync(int count, TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            while (Count < count)
            {
                await _printed.WaitAsync(cts.Token);
            }
        }
    }
}
