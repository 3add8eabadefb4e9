using EdgeRuntime.Archive;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Outputs;
using EdgeRuntime.Hardware.Sources;
using EdgeRuntime.Hardware.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Hardware.Tests;

/// <summary>What runs once per frame on a pipeline stage must not allocate once it is warm.</summary>
public sealed class HotPathAllocationTests : IDisposable
{
    private const int Frames = 200;

    private readonly TempDirectory _folder = new();
    private readonly FramePool _pool = new();

    [Fact]
    public void CachedReplayAllocatesNothingPerFrame()
    {
        for (int i = 0; i < 3; i++)
        {
            TestImages.WriteSolid(_folder.File($"{i}.png"), 64, 48, (byte)i, 0, 0);
        }

        var source = new ReplayFrameSource(
            Options.Create(new SourceOptions { Kind = SourceKind.Replay, Replay = new ReplayOptions { Directory = _folder.Path } }),
            _pool, TimeProvider.System, new ListLogger<ReplayFrameSource>());
        Capture(source, 6);

        long allocated = Measure(() => Capture(source, Frames));

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void RejectSinkAllocatesNothingPerResult()
    {
        var output = new InMemoryDigitalOutput(TimeProvider.System);
        using var sink = new RejectOutputSink(Options.Create(new RejectOptions { DelayMs = 60_000 }), output, TimeProvider.System, new ListLogger<RejectOutputSink>());
        var fail = new InspectionResult { Verdict = Verdict.Fail, Trigger = new TriggerSignal(DateTimeOffset.UnixEpoch, TimeProvider.System.GetTimestamp(), "test") };
        var pass = new InspectionResult { Verdict = Verdict.Pass };
        Publish(sink, fail, null, 4);

        long allocated = Measure(() =>
        {
            Publish(sink, fail, null, Frames / 2);
            Publish(sink, pass, null, Frames / 2);
        });

        Assert.Equal(0, allocated);
        Assert.Equal(4 + (Frames / 2), sink.Counters.Pending);
    }

    [Fact]
    public async Task ArchiveSinkPublishAllocatesNothingPerFrameOnceItsBuffersAreWarm()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options.Create(new ArchiveOptions { Directory = _folder.Path, PassSampleRate = 0.5, QueueCapacity = 2 });
        await using var sink = new ImageArchiveSink(options, TimeProvider.System, new ListLogger<ImageArchiveSink>(), new Random(3), async _ => await release.Task);
        using Frame frame = _pool.Rent(64, 48, PixelFormat.Bgr24);
        var result = new InspectionResult { Verdict = Verdict.Fail, Sequence = 1 };
        result.AddDefect(new Defect(1, new PixelRect(1, 1, 2, 2), 4, 1, 1, 0.9f, 0.8f));

        // The writer holds one frame and the queue two; every further frame recycles the one it pushes out.
        Publish(sink, result, frame, 8);
        long allocated = Measure(() => Publish(sink, result, frame, Frames));

        Assert.Equal(0, allocated);
        Assert.True(sink.Counters.Dropped >= Frames);
        release.SetResult();
    }

    public void Dispose()
    {
        _pool.Dispose();
        _folder.Dispose();
    }

    private static long Measure(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void Capture(IFrameSource source, int count)
    {
        var trigger = new TriggerSignal(DateTimeOffset.UnixEpoch, 0, "test");
        for (int i = 0; i < count; i++)
        {
            ValueTask<Frame> pending = source.CaptureAsync(trigger, CancellationToken.None);
            Assert.True(pending.IsCompletedSuccessfully);
            pending.Result.Dispose();
        }
    }

    private static void Publish(IResultSink sink, InspectionResult result, Frame? frame, int count)
    {
        for (int i = 0; i < count; i++)
        {
            ValueTask published = sink.PublishAsync(result, frame, CancellationToken.None);
            Assert.True(published.IsCompletedSuccessfully);
        }
    }
}
