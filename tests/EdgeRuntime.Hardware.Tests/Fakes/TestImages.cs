using OpenCvSharp;

namespace EdgeRuntime.Hardware.Tests.Fakes;

/// <summary>Writes small real image files for the replay tests.</summary>
internal static class TestImages
{
    /// <summary>Writes a BGR image of one colour; the format comes from the extension.</summary>
    public static void WriteSolid(string path, int width, int height, byte blue, byte green, byte red)
    {
        using var image = new Mat(height, width, MatType.CV_8UC3, new Scalar(blue, green, red));
        Write(path, image);
    }

    /// <summary>Writes a BGR image of seeded noise (incompressible, so its PNG is about width*height*3 bytes).</summary>
    public static byte[] WriteNoise(string path, int width, int height, int seed)
    {
        byte[] pixels = Noise(width, height, seed);
        using var image = new Mat(height, width, MatType.CV_8UC3);
        pixels.CopyTo(image.AsSpan<byte>());
        Write(path, image);
        return pixels;
    }

    public static byte[] Noise(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }

    /// <summary>Reads an image file back as packed BGR bytes.</summary>
    public static byte[] ReadBgr(string path, out int width, out int height)
    {
        using Mat image = Cv2.ImRead(path, ImreadModes.Color);
        Assert.False(image.Empty(), $"{path} did not decode");
        width = image.Cols;
        height = image.Rows;
        return image.AsSpan<byte>().ToArray();
    }

    private static void Write(string path, Mat image)
    {
        Assert.True(Cv2.ImWrite(path, image), $"could not write {path}");
    }
}
