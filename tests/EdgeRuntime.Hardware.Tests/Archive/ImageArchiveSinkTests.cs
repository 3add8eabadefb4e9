using System.Text.Json;
using EdgeRuntime.Archive;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Tests.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EdgeRuntime.Hardware.Tests.Archive;

public sealed class ImageArchiveSinkTests : IDisposable
{
    // Noise does not compress: a 256 x 256 BGR noise PNG is about 197 KB, so five fit a 1 MiB quota and six do not.
    private const int Side = 256;

    private readonly TempDirectory _folder = new();
    private readonly FramePool _pool = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));
    private readonly ListLogger<ImageArchiveSink> _log = new();

    [Fact]
    public async Task FailFrameIsWrittenAsALosslessPngWithAJsonSidecar()
    {
        await using (ImageArchiveSink sink = Create(new ArchiveOptions { PassSampleRate = 0 }))
        {
            using Frame frame = Noise(seed: 1, width: 40, height: 30);
            InspectionResult result = Result(42, Verdict.Fail);
            result.AddDefect(new Defect(2, new PixelRect(3, 4, 10, 6), 37, 7.5f, 6.25f, 0.875f, 0.625f));
            result.AddDefect(new Defect(5, new PixelRect(0, 0, 2, 2), 4, 1f, 1f, 0.5f, 0.5f));

            await sink.PublishAsync(result, frame, CancellationToken.None);
        }

        string png = _folder.File("000000000042-fail.png");
        byte[] pixels = TestImages.ReadBgr(png, out int width, out int height);
        using (Frame expected = Noise(seed: 1, width: 40, height: 30))
        {
            Assert.Equal((40, 30), (width, height));
            Assert.Equal(expected.Pixels.ToArray(), pixels);
        }

        using JsonDocument sidecar = JsonDocument.Parse(File.ReadAllBytes(_folder.File("000000000042-fail.json")));
        JsonElement root = sidecar.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(42, root.GetProperty("seq").GetInt64());
        Assert.Equal("part-42.png", root.GetProperty("frameId").GetString());
        Assert.Equal("FAIL", root.GetProperty("verdict").GetString());
        Assert.Equal("Inspected", root.GetProperty("status").GetString());
        Assert.Equal("timer", root.GetProperty("trigger").GetProperty("source").GetString());
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 7, 59, 59, TimeSpan.Zero), root.GetProperty("trigger").GetProperty("utc").GetDateTimeOffset());
        Assert.Equal("000000000042-fail.png", root.GetProperty("image").GetProperty("file").GetString());
        Assert.Equal(40, root.GetProperty("image").GetProperty("width").GetInt32());
        JsonElement model = root.GetProperty("model");
        Assert.Equal(("unet-defects", "1.2.0", "int8", "TensorRT"),
            (model.GetProperty("id").GetString(), model.GetProperty("version").GetString(), model.GetProperty("precision").GetString(), model.GetProperty("provider").GetString()));
        JsonElement defect = root.GetProperty("defects")[0];
        Assert.Equal("blob", defect.GetProperty("class").GetString());
        Assert.Equal(2, defect.GetProperty("classIndex").GetInt32());
        Assert.Equal((3, 4, 10, 6), (defect.GetProperty("bbox").GetProperty("x").GetInt32(), defect.GetProperty("bbox").GetProperty("y").GetInt32(),
            defect.GetProperty("bbox").GetProperty("width").GetInt32(), defect.GetProperty("bbox").GetProperty("height").GetInt32()));
        Assert.Equal(37, defect.GetProperty("area").GetInt32());
        Assert.Equal(0.875, defect.GetProperty("maxScore").GetDouble());
        Assert.Equal("class5", root.GetProperty("defects")[1].GetProperty("class").GetString());
        Assert.Equal(31.5, root.GetProperty("latenciesMs").GetProperty("inference").GetDouble());
        Assert.Equal(80.25, root.GetProperty("latenciesMs").GetProperty("total").GetDouble());
        Assert.False(root.TryGetProperty("reason", out _), "a null reason should be left out");
        Assert.Empty(Directory.GetFiles(_folder.Path, "*.tmp"));
        Assert.Equal(0, _log.CountAtLeast(LogLevel.Warning));
    }

    [Fact]
    public async Task PassFramesAreSampledAtTheConfiguredRateReproduciblyFromTheSeed()
    {
        // Every archived entry is fsynced twice, so the sample is kept small.
        const int Results = 400;
        const double Rate = 0.25;
        string[] first = await ArchivePassFramesAsync(_folder.File("a"), Rate, seed: 5, Results);
        string[] again = await ArchivePassFramesAsync(_folder.File("b"), Rate, seed: 5, Results / 4);
        string[] none = await ArchivePassFramesAsync(_folder.File("c"), 0, seed: 5, 200);
        string[] all = await ArchivePassFramesAsync(_folder.File("d"), 1, seed: 5, 20);

        // Binomial(400, 0.25): mean 100, standard deviation about 8.7; six deviations either side cannot fail by chance.
        Assert.InRange(first.Length / 2, 100 - 52, 100 + 52);
        Assert.NotEmpty(again);
        Assert.Equal(first.Where(name => long.Parse(name[..12], System.Globalization.CultureInfo.InvariantCulture) <= Results / 4), again);
        Assert.Empty(none);
        Assert.Equal(40, all.Length);
    }

    [Fact]
    public async Task QuotaIsKeptByDeletingTheOldestEntriesFirst()
    {
        await using (ImageArchiveSink sink = Create(new ArchiveOptions { QuotaMegabytes = 1, QueueCapacity = 16 }))
        {
            for (int seq = 1; seq <= 8; seq++)
            {
                using Frame frame = Noise(seq, Side, Side);
                await sink.PublishAsync(Result(seq, Verdict.Fail), frame, CancellationToken.None);
            }
        }

        long[] kept = ArchivedSequences(_folder.Path);
        Assert.Equal(Enumerable.Range(9 - kept.Length, kept.Length).Select(s => (long)s), kept);
        Assert.InRange(kept.Length, 2, 7);
        Assert.True(FolderBytes(_folder.Path) <= 1024 * 1024, $"the archive uses {FolderBytes(_folder.Path)} bytes of a 1 MiB quota");
    }

    [Fact]
    public async Task QuotaHoldsAcrossARestartBecauseTheFolderIsScannedAtStart()
    {
        var options = new ArchiveOptions { QuotaMegabytes = 1, QueueCapacity = 16 };
        await using (ImageArchiveSink first = Create(options))
        {
            for (int seq = 1; seq <= 3; seq++)
            {
                using Frame frame = Noise(seq, Side, Side);
                await first.PublishAsync(Result(seq, Verdict.Fail), frame, CancellationToken.None);
            }
        }

        long before = FolderBytes(_folder.Path);
        File.WriteAllText(_folder.File("000000000099-fail.png.tmp"), "half a file from a crash");
        File.WriteAllText(_folder.File("operator-notes.txt"), "not the archive's");
        await using (ImageArchiveSink second = Create(options))
        {
            Assert.Equal(before, second.Counters.UsedBytes);
            for (int seq = 4; seq <= 6; seq++)
            {
                using Frame frame = Noise(seq, Side, Side);
                await second.PublishAsync(Result(seq, Verdict.Fail), frame, CancellationToken.None);
            }

            await second.DisposeAsync();
            Assert.True(second.Counters.Deleted > 0);
        }

        long[] kept = ArchivedSequences(_folder.Path);
        Assert.Equal(6, kept[^1]);
        Assert.Equal(Enumerable.Range(7 - kept.Length, kept.Length).Select(s => (long)s), kept);
        Assert.DoesNotContain(1L, kept);
        Assert.True(FolderBytes(_folder.Path) <= 1024 * 1024);
        Assert.False(File.Exists(_folder.File("000000000099-fail.png.tmp")));
        Assert.True(File.Exists(_folder.File("operator-notes.txt")));
    }

    [Fact]
    public async Task FullQueueDropsTheOldestWaitingFrameAndCountsIt()
    {
        var writerBusy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Microsoft.Extensions.Options.Options.Create(new ArchiveOptions { Directory = _folder.Path, QueueCapacity = 2 });
        await using (var sink = new ImageArchiveSink(options, _time, _log, new Random(1), async _ =>
        {
            writerBusy.TrySetResult();
            await release.Task;
        }))
        {
            for (int seq = 1; seq <= 6; seq++)
            {
                using Frame frame = Noise(seq, 16, 16);
                await sink.PublishAsync(Result(seq, Verdict.Fail), frame, CancellationToken.None);
                if (seq == 1)
                {
                    // The writer holds seq 1; the queue of two now takes 2..6 and keeps the newest.
                    await writerBusy.Task;
                }
            }

            Assert.Equal(3, sink.Counters.Dropped);
            release.SetResult();
        }

        Assert.Equal([1L, 5L, 6L], ArchivedSequences(_folder.Path));
        using Frame six = Noise(6, 16, 16);
        Assert.Equal(six.Pixels.ToArray(), TestImages.ReadBgr(_folder.File("000000000006-fail.png"), out _, out _));
    }

    [Fact]
    public void ValidatorNamesEveryBadKey()
    {
        File.WriteAllText(_folder.File("a-file"), "x");
        var options = new ArchiveOptions { Directory = _folder.File("a-file"), QuotaMegabytes = 0, PassSampleRate = 1.5, QueueCapacity = 0 };

        var result = new ArchiveOptionsValidator().Validate(null, options);

        Assert.Contains($"Archive:Directory = \"{_folder.File("a-file")}\": must be a folder, but a file of that name exists", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Archive:QuotaMegabytes = 0", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Archive:PassSampleRate = 1.5", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Archive:QueueCapacity = 0", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new ArchiveOptionsValidator().Validate(null, new ArchiveOptions()).Succeeded);
    }

    public void Dispose()
    {
        _pool.Dispose();
        _folder.Dispose();
    }

    private async Task<string[]> ArchivePassFramesAsync(string directory, double rate, int seed, int results)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new ArchiveOptions { Directory = directory, PassSampleRate = rate, QueueCapacity = 1024 });
        await using (var sink = new ImageArchiveSink(options, _time, _log, new Random(seed)))
        {
            for (int seq = 1; seq <= results; seq++)
            {
                using Frame frame = Noise(seq, 4, 4);
                await sink.PublishAsync(Result(seq, Verdict.Pass), frame, CancellationToken.None);
            }

            await sink.DisposeAsync();
            Assert.Equal(0, sink.Counters.Dropped);
        }

        return Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
    }

    private static long[] ArchivedSequences(string directory) => Directory.GetFiles(directory, "*.png")
        .Select(p => long.Parse(Path.GetFileName(p)[..12], System.Globalization.CultureInfo.InvariantCulture))
        .Order()
        .ToArray();

    private static long FolderBytes(string directory) => Directory.GetFiles(directory).Sum(f => new FileInfo(f).Length);

    private Frame Noise(int seed, int width, int height)
    {
        Frame frame = _pool.Rent(width, height, PixelFormat.Bgr24);
        TestImages.Noise(width, height, seed).CopyTo(frame.Pixels);
        frame.FrameId = $"part-{seed}.png";
        return frame;
    }

    private InspectionResult Result(long sequence, Verdict verdict)
    {
        var result = new InspectionResult
        {
            Sequence = sequence,
            FrameId = $"part-{sequence}.png",
            Verdict = verdict,
            Status = ResultStatus.Inspected,
            Trigger = new TriggerSignal(_time.GetUtcNow().AddSeconds(-1), 0, "timer"),
            Model = new ModelIdentity("unet-defects", "1.2.0", "int8", "TensorRT", "abc123"),
            ClassNames = ["good", "linear", "blob"],
        };
        result.Latencies[PipelineStage.Inference] = 31.5;
        result.Latencies.TotalMilliseconds = 80.25;
        return result;
    }

    private ImageArchiveSink Create(ArchiveOptions options)
    {
        options.Directory = _folder.Path;
        return new ImageArchiveSink(Microsoft.Extensions.Options.Options.Create(options), _time, _log, new Random(1));
    }
}
