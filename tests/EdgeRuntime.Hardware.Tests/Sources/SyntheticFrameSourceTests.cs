using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Hardware.Sources;
using EdgeRuntime.Vision.Synthetic;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OpenCvSharp;

namespace EdgeRuntime.Hardware.Tests.Sources;

public sealed class SyntheticFrameSourceTests : IDisposable
{
    private readonly FramePool _pool = new();

    [Fact]
    public async Task SameSeedGivesTheSameFramesInTheSameOrder()
    {
        using SyntheticFrameSource first = Create(seed: 7);
        using SyntheticFrameSource second = Create(seed: 7);

        for (int i = 0; i < 3; i++)
        {
            using Frame a = await first.CaptureAsync(Trigger(), CancellationToken.None);
            using Frame b = await second.CaptureAsync(Trigger(), CancellationToken.None);
            Assert.Equal($"synthetic-7-{i}", a.FrameId);
            Assert.Equal(a.FrameId, b.FrameId);
            Assert.True(a.Pixels.SequenceEqual(b.Pixels), $"frame {i} differs between two sources with the same seed");
        }
    }

    [Fact]
    public async Task DifferentSeedsAndSuccessiveFramesDiffer()
    {
        using SyntheticFrameSource seven = Create(seed: 7);
        using SyntheticFrameSource eight = Create(seed: 8);

        using Frame a0 = await seven.CaptureAsync(Trigger(), CancellationToken.None);
        using Frame a1 = await seven.CaptureAsync(Trigger(), CancellationToken.None);
        using Frame b0 = await eight.CaptureAsync(Trigger(), CancellationToken.None);

        Assert.False(a0.Pixels.SequenceEqual(b0.Pixels));
        Assert.False(a0.Pixels.SequenceEqual(a1.Pixels));
    }

    [Fact]
    public async Task FramesAreTheGeneratorsScenesWithTheirGroundTruth()
    {
        using SyntheticFrameSource source = Create(seed: 3, width: 96, height: 64);
        using var generator = new DefectSceneGenerator(new DefectSceneOptions { Seed = 3, Width = 96, Height = 64 });
        using var image = new Mat();
        using var mask = new Mat();
        var defects = new List<DefectInstance>();

        for (int index = 0; index < 4; index++)
        {
            SceneSummary expected = generator.Render(index, image, mask, defects);
            using Frame frame = await source.CaptureAsync(Trigger(), CancellationToken.None);

            Assert.Equal((96, 64, PixelFormat.Bgr24), (frame.Width, frame.Height, frame.Format));
            Assert.True(frame.Pixels.SequenceEqual(image.AsSpan<byte>()), $"frame {index} is not scene {index}");
            Assert.Equal(expected, source.LastScene);
            Assert.Equal(defects, source.LastDefects);
        }
    }

    [Fact]
    public void ValidatorRefusesSizesTheGeneratorCannotRender()
    {
        var options = new SourceOptions { Kind = SourceKind.Synthetic, Synthetic = new SyntheticOptions { Width = 16, Height = 9000 } };

        var result = new SourceOptionsValidator().Validate(null, options);

        Assert.Contains("Source:Synthetic:Width = 16: must be between 32 and 8192 pixels", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Source:Synthetic:Height = 9000", result.FailureMessage, StringComparison.Ordinal);
    }

    public void Dispose() => _pool.Dispose();

    private static TriggerSignal Trigger() => new(DateTimeOffset.UnixEpoch, 0, "test");

    private SyntheticFrameSource Create(long seed, int width = 64, int height = 64) => new(
        Options.Create(new SourceOptions { Kind = SourceKind.Synthetic, Synthetic = new SyntheticOptions { Seed = seed, Width = width, Height = height } }),
        _pool,
        new FakeTimeProvider());
}
