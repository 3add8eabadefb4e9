using System.Text;
using System.Text.Json;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using Microsoft.Extensions.Logging.Abstractions;
using EdgeRuntime.Messaging.Tests.Support;
using Xunit.Abstractions;

namespace EdgeRuntime.Messaging.Tests;

public sealed class OutboxTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outbox-test-").FullName;

    private DurableOutbox Open(OutboxOptions? options = null) =>
        DurableOutbox.Open(_directory, options ?? new OutboxOptions(), TimeProvider.System, NullLogger.Instance);

    private static byte[] Payload(long i) => Encoding.UTF8.GetBytes($"{{\"seq\":{i}}}");

    private static List<OutboxRecord> Drain(OutboxReader reader)
    {
        var records = new List<OutboxRecord>();
        while (reader.TryRead(out OutboxEntry entry))
        {
            records.Add(entry.ToRecord());
        }

        return records;
    }

    [Fact]
    public void RecordsSurviveReopeningInOrderWithTopicKeyAndPayload()
    {
        using (DurableOutbox outbox = Open())
        {
            for (long i = 1; i <= 100; i++)
            {
                Assert.Equal(i, outbox.Append(OutboxRecordKind.Result, 1000 + i, "edge/d/result", Payload(i)));
            }
        }

        using DurableOutbox reopened = Open();
        using OutboxReader reader = reopened.CreateReader();
        List<OutboxRecord> records = Drain(reader);
        Assert.Equal(100, records.Count);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(i + 1, records[i].Sequence);
            Assert.Equal(1001 + i, records[i].Key);
            Assert.Equal("edge/d/result", records[i].Topic);
            Assert.Equal(Payload(i + 1), records[i].Payload);
        }

        Assert.Equal(101, reopened.Append(OutboxRecordKind.Event, -1, "edge/d/event", "{}"u8));
    }

    [Fact]
    public void AcknowledgedRecordsAreNotSentAgainAfterReopening()
    {
        using (DurableOutbox outbox = Open())
        {
            for (long i = 1; i <= 10; i++)
            {
                outbox.Append(OutboxRecordKind.Result, i, "t", Payload(i));
            }

            outbox.Acknowledge(6);
        }

        using DurableOutbox reopened = Open();
        using OutboxReader reader = reopened.CreateReader();
        Assert.Equal([7L, 8, 9, 10], Drain(reader).Select(r => r.Sequence));
        Assert.Equal(4, reopened.Status.Pending);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(20)]
    public void TornTailIsCutOffOnOpenCountedAndAppendsContinueAfterIt(int bytesCut)
    {
        using (DurableOutbox outbox = Open())
        {
            for (long i = 1; i <= 5; i++)
            {
                outbox.Append(OutboxRecordKind.Result, i, "edge/d/result", Payload(i));
            }
        }

        string segment = Directory.GetFiles(_directory, "*.seg").Single();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - bytesCut);
        }

        using DurableOutbox reopened = Open();
        Assert.Equal(1, reopened.Status.CorruptOnOpen);
        Assert.Equal(5, reopened.Append(OutboxRecordKind.Result, 99, "edge/d/result", Payload(99)));
        using OutboxReader reader = reopened.CreateReader();
        List<OutboxRecord> records = Drain(reader);
        Assert.Equal([1L, 2, 3, 4, 5], records.Select(r => r.Sequence));
        Assert.Equal(99, records[^1].Key);
    }

    [Fact]
    public void RecordWithBadChecksumIsNeverPublishedAndEverythingBeforeItIs()
    {
        using (DurableOutbox outbox = Open())
        {
            for (long i = 1; i <= 5; i++)
            {
                outbox.Append(OutboxRecordKind.Result, i, "edge/d/result", Payload(i));
            }
        }

        string segment = Directory.GetFiles(_directory, "*.seg").Single();
        byte[] bytes = File.ReadAllBytes(segment);
        bytes[^3] ^= 0x40; // inside the last record's payload
        File.WriteAllBytes(segment, bytes);

        using DurableOutbox reopened = Open();
        using OutboxReader reader = reopened.CreateReader();
        Assert.Equal([1L, 2, 3, 4], Drain(reader).Select(r => r.Sequence));
        Assert.Equal(1, reopened.Status.CorruptOnOpen);
        Assert.Equal("outbox-corrupt", reopened.OpenAlarm?.Code);
        Assert.Equal(1, reopened.OpenAlarm?.Count);
    }

    [Fact]
    public void GarbageAppendedAfterTheLastRecordIsCutOff()
    {
        using (DurableOutbox outbox = Open())
        {
            outbox.Append(OutboxRecordKind.Result, 1, "t", Payload(1));
        }

        string segment = Directory.GetFiles(_directory, "*.seg").Single();
        using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write([0xFF, 0xFF, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        }

        using DurableOutbox reopened = Open();
        using OutboxReader reader = reopened.CreateReader();
        Assert.Single(Drain(reader));
        Assert.Equal(1, reopened.Status.CorruptOnOpen);
    }

    [Fact]
    public void SizeLimitDropsTheOldestUnsentSegmentCountsItAndRaisesAnAlarm()
    {
        var options = new OutboxOptions { MaxMegabytes = 4, SegmentMegabytes = 1 };
        using DurableOutbox outbox = Open(options);
        var alarms = new List<OutboxAlarm>();
        outbox.Alarm += alarms.Add;
        byte[] payload = new byte[10_000];
        for (int i = 0; i < 600; i++)
        {
            Assert.True(outbox.Append(OutboxRecordKind.Result, i, "edge/d/result", payload) > 0);
        }

        OutboxStatus status = outbox.Status;
        Assert.True(status.DroppedUnsent > 0, "nothing was dropped");
        Assert.True(status.Bytes <= 4L * 1024 * 1024, $"outbox holds {status.Bytes} bytes");
        Assert.Equal(600 - status.DroppedUnsent, status.Pending);
        Assert.Contains(alarms, a => a.Code == "outbox-dropped");
        Assert.Equal(status.DroppedUnsent, alarms.Where(a => a.Code == "outbox-dropped").Sum(a => a.Count));

        // The reader resumes at the oldest record still on disk, in order, with no gaps after it.
        using OutboxReader reader = outbox.CreateReader();
        List<OutboxRecord> records = Drain(reader);
        Assert.Equal(status.Pending, records.Count);
        Assert.Equal(Enumerable.Range((int)records[0].Sequence, records.Count).Select(i => (long)i), records.Select(r => r.Sequence));
    }

    [Fact]
    public void ReplayRangeFindsResultsStillOnDiskByPipelineSequence()
    {
        using DurableOutbox outbox = Open();
        for (long i = 1; i <= 50; i++)
        {
            outbox.Append(OutboxRecordKind.Result, 500 + i, "edge/d/result", Payload(i));
            outbox.Append(OutboxRecordKind.Event, -1, "edge/d/event", "{}"u8);
        }

        outbox.Acknowledge(100);
        IReadOnlyList<OutboxRecord> found = outbox.ReadResultRange(510, 519, 1000);
        Assert.Equal(Enumerable.Range(510, 10).Select(i => (long)i), found.Select(r => r.Key));
        Assert.Empty(outbox.ReadResultRange(10, 20, 1000));
    }

    [Fact]
    public void ReaderReturnsEveryPayloadIntactWhileItsBufferGrowsAndDecodesEachTopicOnce()
    {
        using DurableOutbox outbox = Open();
        int[] sizes = [10, 5000, 100, 70_000, 3, 300_000, 1];
        for (int i = 0; i < sizes.Length; i++)
        {
            byte[] payload = new byte[sizes[i]];
            new Random(i).NextBytes(payload);
            outbox.Append(i % 2 == 0 ? OutboxRecordKind.Result : OutboxRecordKind.Event, i, i % 2 == 0 ? "edge/d/result" : "edge/d/event", payload);
        }

        using OutboxReader reader = outbox.CreateReader();
        string? resultTopic = null;
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.True(reader.TryRead(out OutboxEntry entry));
            byte[] expected = new byte[sizes[i]];
            new Random(i).NextBytes(expected);
            Assert.Equal(expected, entry.Payload.ToArray());
            Assert.Equal(i, entry.Key);
            if (entry.Kind == OutboxRecordKind.Result)
            {
                // One string per distinct topic, not one per record.
                Assert.Equal("edge/d/result", entry.Topic);
                Assert.Same(resultTopic ?? entry.Topic, entry.Topic);
                resultTopic = entry.Topic;
            }
        }

        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void FollowingTheOutboxAllocatesNothingPerRecordOnceWarm()
    {
        using DurableOutbox outbox = Open();
        using OutboxReader reader = outbox.CreateReader();
        byte[] payload = Payload(12345);
        long total = 0;
        void AppendAndReadBack(int count)
        {
            for (int i = 0; i < count; i++)
            {
                outbox.Append(OutboxRecordKind.Result, i, "edge/d/result", payload);
                Assert.True(reader.TryRead(out OutboxEntry entry));
                total += entry.Payload.Length;
                Assert.False(reader.TryRead(out _));
            }
        }

        AppendAndReadBack(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        AppendAndReadBack(2000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Append, read, and find nothing more (which arms the wait for the next append), 2000 times.
        output.WriteLine($"{allocated} bytes for 2000 records ({total} payload bytes read)");
        Assert.True(allocated < 2000, $"{allocated} bytes allocated for 2000 records");
    }

    [Fact]
    public async Task ReaderWakesUpOnAppendWithoutPolling()
    {
        using DurableOutbox outbox = Open();
        using OutboxReader reader = outbox.CreateReader();
        ValueTask<OutboxEntry> pending = reader.ReadAsync(CancellationToken.None);
        Assert.False(pending.IsCompleted);
        outbox.Append(OutboxRecordKind.Result, 7, "t", Payload(7));
        OutboxEntry entry = await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(7, entry.Key);
        Assert.Equal(Payload(7), entry.Payload.ToArray());
    }

    [Theory]
    [InlineData(FsyncPolicy.Interval)]
    [InlineData(FsyncPolicy.Always)]
    public async Task SinkAppendsEveryResultInOrderAsOnePendingRecordOfItsOwnSize(FsyncPolicy policy)
    {
        // How fast this goes is measured by ./build.sh bench (section "outbox"); here only what ends up on disk.
        using DurableOutbox outbox = Open(new OutboxOptions { FsyncPolicy = policy });
        var topics = new MqttTopics("edge", "line1");
        using var sink = new MqttResultSink(outbox, topics);
        var result = new InspectionResult();
        const int count = 200;
        for (int i = 1; i <= count; i++)
        {
            TestResults.Fill(result, 1000 + i);
            await sink.PublishAsync(result, null, CancellationToken.None);
        }

        OutboxStatus status = outbox.Status;
        Assert.Equal(0, sink.Refused);
        Assert.Equal(count, status.Appended);
        Assert.Equal(count, status.Pending);
        Assert.Equal(0, status.Lost);

        using OutboxReader reader = outbox.CreateReader();
        List<OutboxRecord> records = Drain(reader);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), records.Select(r => r.Sequence));
        Assert.Equal(Enumerable.Range(1001, count).Select(i => (long)i), records.Select(r => r.Key));
        long recordBytes = 0;
        foreach (OutboxRecord record in records)
        {
            Assert.Equal(OutboxRecordKind.Result, record.Kind);
            Assert.Equal(topics.Result, record.Topic);
            using JsonDocument payload = JsonDocument.Parse(record.Payload);
            Assert.Equal(record.Key, payload.RootElement.GetProperty("seq").GetInt64());
            recordBytes += DurableOutbox.RecordHeaderSize + DurableOutbox.BodyFixedSize + Encoding.UTF8.GetByteCount(record.Topic) + record.Payload.Length;
        }

        // A record costs its header, topic and JSON and nothing more; beyond them the files hold only a small header each.
        output.WriteLine($"fsync {policy}: {status.Bytes} bytes in {status.Segments} segment(s) for {count} records ({recordBytes / count} bytes/record)");
        Assert.InRange(recordBytes / count, 100, 2048);
        Assert.InRange(status.Bytes - recordBytes, 0, status.Segments * 64L);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
