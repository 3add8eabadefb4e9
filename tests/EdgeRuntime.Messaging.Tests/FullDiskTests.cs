using System.Text.Json;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using EdgeRuntime.Messaging.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using static EdgeRuntime.Messaging.Tests.Support.Delivery;

namespace EdgeRuntime.Messaging.Tests;

/// <summary>
/// The outbox on a disk that really runs out of space (ENOSPC from the kernel, see <see cref="FullDisk"/>): the pipeline
/// never sees an exception, the oldest records make room first, health and an alarm say what happened, and publishing
/// carries on once there is space again.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FullDiskTests(ITestOutputHelper output)
{
    private const int SegmentBytes = 1024 * 1024;
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private static readonly OutboxOptions s_smallOutbox = new() { MaxMegabytes = 4, SegmentMegabytes = 1 };

    [Fact]
    public void WhenTheDiskFillsTheOldestSegmentGoesFirstEvenWhileAReaderHasItOpenAndNoRecordIsLost()
    {
        using var disk = new FullDisk(4L * 1024 * 1024);
        output.WriteLine(disk.IsTmpfs ? "4 MiB tmpfs" : "no tmpfs (not root): next segment linked to /dev/full");
        var topics = new MqttTopics("edge", "line1");
        var alarms = new List<OutboxAlarm>();
        byte[] payload = new byte[10_000];
        Array.Fill(payload, (byte)'x');
        var written = new List<long>();
        using (DurableOutbox outbox = DurableOutbox.Open(disk.Directory, s_smallOutbox, TimeProvider.System, NullLogger.Instance))
        {
            // Wired as the host wires it: the outbox's alarms become event records in the outbox itself.
            _ = new MqttEventPublisher(outbox, topics, TimeProvider.System);
            outbox.Alarm += alarms.Add;
            using OutboxReader reader = outbox.CreateReader();

            for (int i = 1; i <= 250; i++)
            {
                written.Add(outbox.Append(OutboxRecordKind.Result, i, topics.Result, payload));
            }

            // The publisher has sent the first records (its file handle is on the oldest segment) and the broker went away.
            for (int i = 0; i < 5; i++)
            {
                Assert.True(reader.TryRead(out _));
            }

            disk.Fill(outbox, SegmentBytes, topics.Event, persistent: false);
            for (int i = 251; i <= 400; i++)
            {
                written.Add(outbox.Append(OutboxRecordKind.Result, i, topics.Result, payload));
            }

            // Append never threw, and with older segments to give up, not one new record was lost.
            Assert.DoesNotContain(-1L, written);
            OutboxStatus status = outbox.Status;
            output.WriteLine($"{status.Segments} segments, {status.Bytes} bytes, {status.DroppedUnsent} dropped, {status.Lost} lost, alarms: "
                + string.Join(" | ", alarms.Select(a => $"{a.Code}: {a.Message}")));
            Assert.Equal(0, status.Lost);
            Assert.Null(status.Degraded);
            Assert.True(status.DroppedUnsent > 0, "nothing was dropped: the disk never filled");

            // The oldest went first: what is left is every record from one point on, ending with the newest.
            List<OutboxRecord> left = [];
            while (reader.TryRead(out OutboxEntry entry))
            {
                left.Add(entry.ToRecord());
            }

            Assert.Equal(0, reader.CorruptSkipped);
            Assert.Equal(status.DroppedUnsent + 1, left[0].Sequence);
            Assert.Equal(Enumerable.Range((int)left[0].Sequence, left.Count).Select(s => (long)s), left.Select(r => r.Sequence));
            Assert.Equal(400, left.Last(r => r.Kind == OutboxRecordKind.Result).Key);

            // Each segment given up was alarmed with its count, and the alarms are events waiting to be published.
            OutboxAlarm[] dropped = alarms.Where(a => a.Code == "outbox-dropped").ToArray();
            Assert.NotEmpty(dropped);
            Assert.All(dropped, a => Assert.Contains("disk-full", a.Message, StringComparison.Ordinal));
            Assert.Equal(status.DroppedUnsent, dropped.Sum(a => a.Count));
            Assert.Contains(left, r => r.Kind == OutboxRecordKind.Event
                && JsonDocument.Parse(r.Payload).RootElement.TryGetProperty("code", out JsonElement code) && code.GetString() == "outbox-dropped");
        }

        // Nothing of the failed writes was left in the files to be mistaken for corruption at the next start.
        using DurableOutbox reopened = DurableOutbox.Open(disk.Directory, s_smallOutbox, TimeProvider.System, NullLogger.Instance);
        Assert.Equal(0, reopened.Status.CorruptOnOpen);
    }

    [Fact]
    public async Task AFullDiskLosesNewResultsWithoutThrowingHealthSaysWhyOneAlarmIsRaisedAndPublishingResumesWhenSpaceReturns()
    {
        using var disk = new FullDisk(1024 * 1024);
        output.WriteLine(disk.IsTmpfs ? "1 MiB tmpfs" : "no tmpfs (not root): next segment linked to /dev/full, folder read-only");
        using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using TestSubscriber subscriber = await TestSubscriber.ConnectAsync(broker.Port, "edge/line1/result", "edge/line1/event");
        MqttOptions options = RuntimeUnderTest.OptionsFor(broker.Port);
        options.Outbox = s_smallOutbox;
        await using RuntimeUnderTest runtime = await RuntimeUnderTest.StartAsync(options, disk.Directory);
        var alarms = new List<OutboxAlarm>();
        runtime.Outbox.Alarm += alarm =>
        {
            lock (alarms)
            {
                alarms.Add(alarm);
            }
        };
        await runtime.State.WaitConnectedAsync(CancellationToken.None).WaitAsync(s_wait);

        await runtime.PublishResultsAsync(1, 20);
        await subscriber.WaitForAsync(s => ResultSeqs(s, "edge/line1/result").Contains(20), s_wait, "result 20");

        // The disk fills while results keep coming: PublishAsync must neither throw nor block the pipeline.
        disk.Fill(runtime.Outbox, SegmentBytes, runtime.Topics.Event, persistent: true);
        await runtime.PublishResultsAsync(21, 60);
        long refused = runtime.Sink.Refused;
        OutboxStatus full = runtime.Outbox.Status;
        output.WriteLine($"refused {refused}, lost {full.Lost}, degraded: {full.Degraded}");
        Assert.True(refused > 0, "no result was refused: the disk never filled");
        Assert.StartsWith("disk: ", full.Degraded, StringComparison.Ordinal);
        Assert.Contains("No space left on device", full.Degraded, StringComparison.Ordinal);

        // The alarm raised for it could not be stored either (it is counted as lost too) and raised no alarm of its own.
        Assert.True(full.Lost > refused, $"lost {full.Lost}, refused {refused}: the alarm's own event was stored on a full disk?");
        lock (alarms)
        {
            Assert.Equal(["outbox-write-failed"], alarms.Select(a => a.Code));
        }

        JsonElement health = runtime.HealthNow();
        Assert.Equal("degraded", health.GetProperty("state").GetString());
        Assert.Contains(health.GetProperty("problems").EnumerateArray(),
            p => p.GetString()!.StartsWith("outbox: disk: ", StringComparison.Ordinal) && p.GetString()!.Contains("No space left on device", StringComparison.Ordinal));
        Assert.Equal(full.Degraded, health.GetProperty("outbox").GetProperty("degraded").GetString());
        Assert.Equal(full.Lost, health.GetProperty("outbox").GetProperty("lost").GetInt64());

        // Space returns: new results are written, and published with everything that was stored.
        disk.MakeRoom();
        await runtime.PublishResultsAsync(61, 80);
        Assert.Equal(refused, runtime.Sink.Refused);
        Assert.Null(runtime.Outbox.Status.Degraded);
        JsonElement after = runtime.HealthNow();
        Assert.False(after.GetProperty("outbox").TryGetProperty("degraded", out _));
        Assert.DoesNotContain(after.GetProperty("problems").EnumerateArray(), p => p.GetString()!.StartsWith("outbox: disk", StringComparison.Ordinal));

        long[] stored = runtime.Outbox.ReadResultRange(1, 80, 1000).Select(r => r.Key).ToArray();
        Assert.Equal(80 - refused, stored.Length);
        Assert.Equal(Enumerable.Range(61, 20).Select(i => (long)i), stored[^20..]);
        await subscriber.WaitForAsync(s => stored.All(ResultSeqs(s, "edge/line1/result").Contains), s_wait, "every stored result");
        await subscriber.WaitForAsync(s => Events(s).Any(e => e.Code == "outbox-write-resumed"), s_wait, "the outbox-write-resumed event");
        (string Code, long Count) resumed = Events(subscriber).Single(e => e.Code == "outbox-write-resumed");
        Assert.Equal(full.Lost, resumed.Count);
        Assert.Equal(stored, ResultSeqs(subscriber, "edge/line1/result").Distinct().Order());
    }

    private static (string Code, long Count)[] Events(TestSubscriber subscriber) =>
        subscriber.On("edge/line1/event").Select(TestSubscriber.Json).Where(e => e.TryGetProperty("code", out _))
            .Select(e => (e.GetProperty("code").GetString()!, e.TryGetProperty("count", out JsonElement c) ? c.GetInt64() : 0)).ToArray();
}
