using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Sources;
using EdgeRuntime.Hardware.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRuntime.Hardware.Tests.Sources;

public sealed class ReplayFrameSourceTests : IDisposable
{
    private readonly TempDirectory _folder = new();
    private readonly FramePool _pool = new();
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task ImagesAreReplayedInOrdinalFileNameOrderAndOtherFilesAreIgnored()
    {
        // Ordinal order: digits before capitals before lower case, "10" before "9"; the extension's case does not matter.
        TestImages.WriteSolid(_folder.File("b.png"), 8, 6, 3, 0, 0);
        TestImages.WriteSolid(_folder.File("9.bmp"), 8, 6, 1, 0, 0);
        TestImages.WriteSolid(_folder.File("10.png"), 8, 6, 0, 0, 0);
        TestImages.WriteSolid(_folder.File("A.PNG"), 8, 6, 2, 0, 0);
        TestImages.WriteSolid(_folder.File("c.jpg"), 8, 6, 200, 200, 200);
        File.WriteAllText(_folder.File("notes.txt"), "not an image");
        ReplayFrameSource source = Create(loop: false);

        string[] ids = new string[5];
        for (int i = 0; i < ids.Length; i++)
        {
            using Frame frame = await source.CaptureAsync(Trigger(), CancellationToken.None);
            ids[i] = frame.FrameId;
            Assert.Equal((8, 6, PixelFormat.Bgr24), (frame.Width, frame.Height, frame.Format));
            if (i < 4)
            {
                Assert.Equal(i, frame.Pixels[0]);
            }
        }

        Assert.Equal(["10.png", "9.bmp", "A.PNG", "b.png", "c.jpg"], ids);
        Assert.Equal(5, source.ImageCount);
    }

    [Fact]
    public async Task LoopingReplayStartsAgainAfterTheLastImage()
    {
        for (int i = 0; i < 3; i++)
        {
            TestImages.WriteSolid(_folder.File($"{i}.png"), 4, 4, (byte)i, 0, 0);
        }

        ReplayFrameSource source = Create(loop: true);
        var ids = new List<string>();
        for (int i = 0; i < 7; i++)
        {
            using Frame frame = await source.CaptureAsync(Trigger(), CancellationToken.None);
            ids.Add(frame.FrameId);
        }

        Assert.Equal(["0.png", "1.png", "2.png", "0.png", "1.png", "2.png", "0.png"], ids);
    }

    [Fact]
    public async Task ReplayWithoutLoopEndsWithReplayFinishedAfterTheLastImage()
    {
        TestImages.WriteSolid(_folder.File("a.png"), 4, 4, 1, 1, 1);
        TestImages.WriteSolid(_folder.File("b.png"), 4, 4, 1, 1, 1);
        ReplayFrameSource source = Create(loop: false);
        (await source.CaptureAsync(Trigger(), CancellationToken.None)).Dispose();
        (await source.CaptureAsync(Trigger(), CancellationToken.None)).Dispose();

        var end = await Assert.ThrowsAsync<ReplayFinishedException>(async () => await source.CaptureAsync(Trigger(), CancellationToken.None));

        Assert.Equal(2, end.FramesReplayed);
        Assert.Contains(_folder.Path, end.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimitSpacesFramesOnTheInjectedClock()
    {
        TestImages.WriteSolid(_folder.File("a.png"), 4, 4, 1, 1, 1);
        ReplayFrameSource source = Create(loop: true, rateHz: 10);

        ValueTask<Frame> first = source.CaptureAsync(Trigger(), CancellationToken.None);
        Assert.True(first.IsCompletedSuccessfully, "the first frame waited for the rate limit");
        (await first).Dispose();

        ValueTask<Frame> second = source.CaptureAsync(Trigger(), CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(second.IsCompleted, "the second frame came sooner than 1/10 s after the first");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        using Frame frame = await second;
        Assert.Equal("a.png", frame.FrameId);
        Assert.Equal(_time.GetTimestamp(), frame.CapturedTimestamp);
    }

    [Fact]
    public async Task CorruptAndEmptyFilesCostTheirTriggerAFrameSourceExceptionNamingTheFile()
    {
        TestImages.WriteSolid(_folder.File("a.png"), 4, 4, 1, 1, 1);
        File.WriteAllText(_folder.File("b.png"), "this is not a PNG");
        File.WriteAllBytes(_folder.File("c.jpg"), []);
        TestImages.WriteSolid(_folder.File("d.png"), 4, 4, 1, 1, 1);
        ReplayFrameSource source = Create(loop: true);

        for (int pass = 0; pass < 2; pass++)
        {
            (await source.CaptureAsync(Trigger(), CancellationToken.None)).Dispose();
            var corrupt = await Assert.ThrowsAsync<FrameSourceException>(async () => await source.CaptureAsync(Trigger(), CancellationToken.None));
            Assert.Contains(_folder.File("b.png"), corrupt.Message, StringComparison.Ordinal);
            var empty = await Assert.ThrowsAsync<FrameSourceException>(async () => await source.CaptureAsync(Trigger(), CancellationToken.None));
            Assert.Contains(_folder.File("c.jpg"), empty.Message, StringComparison.Ordinal);
            using Frame next = await source.CaptureAsync(Trigger(), CancellationToken.None);
            Assert.Equal("d.png", next.FrameId);
        }
    }

    [Fact]
    public async Task CacheKeepsDecodedImagesOnlyWithinItsBudget()
    {
        // 512 x 512 BGR is 768 KiB decoded: one fits a 1 MiB budget, two do not.
        for (int i = 0; i < 3; i++)
        {
            TestImages.WriteNoise(_folder.File($"{i}.png"), 512, 512, seed: i);
        }

        ReplayFrameSource small = Create(loop: true, cacheMegabytes: 1);
        ReplayFrameSource none = Create(loop: true, cacheMegabytes: 0);
        for (int i = 0; i < 4; i++)
        {
            (await small.CaptureAsync(Trigger(), CancellationToken.None)).Dispose();
            (await none.CaptureAsync(Trigger(), CancellationToken.None)).Dispose();
        }

        Assert.Equal((1, 512L * 512 * 3), (small.CachedImages, small.CachedBytes));
        Assert.Equal((0, 0L), (none.CachedImages, none.CachedBytes));
    }

    [Fact]
    public async Task CachedImagesAreReplayedFromMemoryWithIdenticalPixels()
    {
        byte[][] expected = new byte[3][];
        for (int i = 0; i < 3; i++)
        {
            expected[i] = TestImages.WriteNoise(_folder.File($"{i}.png"), 64, 48, seed: 10 + i);
        }

        ReplayFrameSource source = Create(loop: true, cacheMegabytes: 4);
        for (int i = 0; i < 3; i++)
        {
            using Frame frame = await source.CaptureAsync(Trigger(), CancellationToken.None);
            Assert.Equal(expected[i], frame.Pixels.ToArray());
        }

        // With the files gone, only the cache can still produce the frames.
        foreach (string file in Directory.GetFiles(_folder.Path))
        {
            File.Delete(file);
        }

        for (int i = 0; i < 3; i++)
        {
            using Frame frame = await source.CaptureAsync(Trigger(), CancellationToken.None);
            Assert.Equal($"{i}.png", frame.FrameId);
            Assert.Equal(expected[i], frame.Pixels.ToArray());
        }
    }

    [Fact]
    public void MissingOrEmptyFolderIsAStartUpErrorNamingTheKey()
    {
        string missing = _folder.File("nowhere");
        Directory.CreateDirectory(_folder.File("empty"));
        File.WriteAllText(_folder.File("empty/readme.txt"), "no images here");
        var validator = new SourceOptionsValidator();

        var missingResult = validator.Validate(null, Options(missing));
        var emptyResult = validator.Validate(null, Options(_folder.File("empty")));
        var thrown = Assert.Throws<InvalidOperationException>(() => Create(Options(missing)));

        Assert.Contains($"Source:Replay:Directory = \"{missing}\": the folder does not exist", missingResult.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("the folder holds no images", emptyResult.FailureMessage, StringComparison.Ordinal);
        Assert.StartsWith($"Source:Replay:Directory = \"{missing}\"", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidatorAcceptsAFolderWithImagesAndRefusesTheCameraForNow()
    {
        TestImages.WriteSolid(_folder.File("a.png"), 4, 4, 1, 1, 1);
        var validator = new SourceOptionsValidator();

        var replay = validator.Validate(null, Options(_folder.Path));
        var camera = validator.Validate(null, new SourceOptions { Kind = SourceKind.Camera });
        var badRate = validator.Validate(null, new SourceOptions { Kind = SourceKind.Replay, Replay = new ReplayOptions { Directory = _folder.Path, RateHz = -1 } });

        Assert.True(replay.Succeeded, replay.FailureMessage);
        Assert.Contains("Source:Kind = \"Camera\": the camera source is not available in this build", camera.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Source:Replay:RateHz = -1", badRate.FailureMessage, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _pool.Dispose();
        _folder.Dispose();
    }

    private static TriggerSignal Trigger() => new(DateTimeOffset.UnixEpoch, 0, "test");

    private SourceOptions Options(string directory, bool loop = true, double rateHz = 0, int cacheMegabytes = 16) => new()
    {
        Kind = SourceKind.Replay,
        Replay = new ReplayOptions { Directory = directory, Loop = loop, RateHz = rateHz, CacheBudgetMegabytes = cacheMegabytes },
    };

    private ReplayFrameSource Create(bool loop, double rateHz = 0, int cacheMegabytes = 16) =>
        Create(Options(_folder.Path, loop, rateHz, cacheMegabytes));

    private ReplayFrameSource Create(SourceOptions options) =>
        new(Microsoft.Extensions.Options.Options.Create(options), _pool, _time, new ListLogger<ReplayFrameSource>());
}
