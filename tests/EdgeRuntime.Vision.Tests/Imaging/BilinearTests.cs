using EdgeRuntime.Vision.Imaging;
using OpenCvSharp;

namespace EdgeRuntime.Vision.Tests.Imaging;

public sealed class BilinearTests
{
    [Theory]
    [InlineData(32, 24, 75, 61)]
    [InlineData(75, 61, 32, 24)]
    [InlineData(17, 40, 17, 13)]
    public void PlaneResizeMatchesOpenCvLinearInterpolation(int sourceWidth, int sourceHeight, int width, int height)
    {
        var random = new Random(sourceWidth + width);
        float[] source = new float[sourceWidth * sourceHeight];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = (float)random.NextDouble();
        }

        float[] actual = new float[width * height];
        Bilinear.ResizePlane(source, sourceWidth, sourceHeight, actual, width, height, new int[width], new int[width], new float[width], new float[2 * width]);

        using Mat input = Mat.FromPixelData(sourceHeight, sourceWidth, MatType.CV_32FC1, source);
        using Mat expected = new();
        Cv2.Resize(input, expected, new Size(width, height), 0, 0, InterpolationFlags.Linear);
        ReadOnlySpan<float> reference = expected.AsSpan<float>();
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.True(MathF.Abs(reference[i] - actual[i]) < 1e-5f, $"pixel ({i % width}, {i / width}): OpenCV {reference[i]}, ours {actual[i]}");
        }
    }
}
