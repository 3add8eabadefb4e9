using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Imaging;
using OpenCvSharp;

namespace EdgeRuntime.Vision.Tests.Imaging;

public sealed class ImageFilesTests : IDisposable
{
    private readonly FramePool _pool = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("vision-images-").FullName;

    public void Dispose()
    {
        _pool.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void CorruptImageFileGivesAnErrorNamingIt()
    {
        string path = Path.Combine(_directory, "part-0042.png");
        File.WriteAllBytes(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5, 6, 7, 8, 9]);

        var error = Assert.Throws<FrameSourceException>(() => ImageFiles.Read(path, _pool));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("not a decodable image", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedPngGivesAnErrorNamingIt()
    {
        string good = Path.Combine(_directory, "good.png");
        using (var image = new Mat(40, 40, MatType.CV_8UC3, new Scalar(10, 20, 30)))
        {
            Assert.True(Cv2.ImWrite(good, image));
        }

        byte[] bytes = File.ReadAllBytes(good);
        string truncated = Path.Combine(_directory, "truncated.png");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<FrameSourceException>(() => ImageFiles.Read(truncated, _pool));

        Assert.Contains(truncated, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingImageFileGivesAnErrorNamingIt()
    {
        string path = Path.Combine(_directory, "absent.png");

        var error = Assert.Throws<FrameSourceException>(() => ImageFiles.Read(path, _pool));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UndecodableBytesInMemoryGiveAnErrorNamingThem()
    {
        var error = Assert.Throws<FrameSourceException>(() => ImageFiles.Decode("not an image"u8, "camera-7/frame-12", _pool));

        Assert.Contains("camera-7/frame-12", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frame.png")]
    [InlineData("frame.bmp")]
    public void LosslessImageDecodesIntoAPooledFrameUnchanged(string name)
    {
        string path = Path.Combine(_directory, name);
        byte[] pixels = new byte[33 * 21 * 3];
        new Random(5).NextBytes(pixels);
        using (var image = new Mat(21, 33, MatType.CV_8UC3))
        {
            pixels.CopyTo(image.AsSpan<byte>());
            Assert.True(Cv2.ImWrite(path, image));
        }

        using Frame frame = ImageFiles.Read(path, _pool);
        using Frame fromMemory = ImageFiles.Decode(File.ReadAllBytes(path), name, _pool);

        Assert.Equal((33, 21, PixelFormat.Bgr24, name), (frame.Width, frame.Height, frame.Format, frame.FrameId));
        Assert.True(frame.Pixels.SequenceEqual(pixels));
        Assert.True(fromMemory.Pixels.SequenceEqual(pixels));
    }

    [Fact]
    public void JpegDecodesCloseToTheOriginal()
    {
        string path = Path.Combine(_directory, "frame.jpg");
        using (var image = new Mat(32, 48, MatType.CV_8UC3, new Scalar(40, 120, 200)))
        {
            Assert.True(Cv2.ImWrite(path, image));
        }

        using Frame frame = ImageFiles.Read(path, _pool);

        Assert.Equal((48, 32), (frame.Width, frame.Height));
        Assert.InRange(frame.Pixels[0], 36, 44);
        Assert.InRange(frame.Pixels[2], 196, 204);
    }

    [Fact]
    public void ColourImageReadAsGreyUsesOpenCvConversion()
    {
        string path = Path.Combine(_directory, "colour.png");
        using (var image = new Mat(4, 4, MatType.CV_8UC3, new Scalar(255, 0, 0)))
        {
            Assert.True(Cv2.ImWrite(path, image));
        }

        using Frame frame = ImageFiles.Read(path, _pool, PixelFormat.Gray8);

        Assert.Equal(PixelFormat.Gray8, frame.Format);
        Assert.Equal(16, frame.Length);
        Assert.Equal(29, frame.Pixels[0]);
    }

    [Fact]
    public void ClassMapPngHoldsTheClassIndices()
    {
        string path = Path.Combine(_directory, "mask.png");
        byte[] map = new byte[17 * 9];
        for (int i = 0; i < map.Length; i++)
        {
            map[i] = (byte)(i % 3);
        }

        ImageFiles.WriteClassMap(path, map, 17, 9);

        using Mat read = Cv2.ImRead(path, ImreadModes.Unchanged);
        Assert.Equal((17, 9, MatType.CV_8UC1), (read.Width, read.Height, read.Type()));
        Assert.True(read.AsSpan<byte>().SequenceEqual(map));
    }

    [Fact]
    public void OverlayBlendsClassColoursAndBoxesDefects()
    {
        ModelManifest manifest = TestManifests.Segmentation();
        using Frame frame = _pool.Rent(40, 30, PixelFormat.Bgr24);
        frame.Pixels.Fill(100);
        byte[] map = new byte[40 * 30];
        for (int y = 10; y < 15; y++)
        {
            map.AsSpan((y * 40) + 20, 6).Fill(1);
        }

        Defect[] defects = [new Defect(1, new PixelRect(20, 10, 6, 5), 30, 22.5f, 12f, 0.97f, 0.9f)];
        string path = Path.Combine(_directory, "overlay.png");

        ImageFiles.WriteOverlay(path, frame, map, manifest, defects, opacity: 0.5f);

        using Mat overlay = Cv2.ImRead(path, ImreadModes.Color);
        Assert.Equal((40, 30), (overlay.Width, overlay.Height));
        Vec3b inside = overlay.At<Vec3b>(12, 22);
        Vec3b box = overlay.At<Vec3b>(9, 23);
        Vec3b untouched = overlay.At<Vec3b>(25, 5);

        // linear is #ff3030: BGR (48, 48, 255); half over grey 100.
        Assert.Equal((74, 74, 178), (inside.Item0, inside.Item1, inside.Item2));
        Assert.Equal((48, 48, 255), (box.Item0, box.Item1, box.Item2));
        Assert.Equal((100, 100, 100), (untouched.Item0, untouched.Item1, untouched.Item2));
    }

    [Fact]
    public void UnwritableOutputGivesAnErrorNamingIt()
    {
        string path = Path.Combine(_directory, "missing-folder", "mask.png");

        var error = Assert.Throws<IOException>(() => ImageFiles.WriteClassMap(path, new byte[4], 2, 2));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
