using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.Vision.Postprocessing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Vision.Tests.Postprocessing;

/// <summary>Builds model outputs by hand: full-frame planes cut into tiles the way a tiled model would see them.</summary>
internal static class SegmentationData
{
    /// <summary>
    /// Cuts full-frame planes [K, frameHeight, frameWidth] into <paramref name="layout"/>'s tiles of
    /// [K, TileHeight, TileWidth]. Padding is NaN, so reading it would poison the result.
    /// </summary>
    public static float[] Cut(float[] framePlanes, int classes, TileLayout layout, Func<int, int, float>? perTileOffset = null)
    {
        int w = layout.FrameWidth;
        int h = layout.FrameHeight;
        int tw = layout.TileWidth;
        int th = layout.TileHeight;
        var output = new float[layout.Count * classes * tw * th];
        output.AsSpan().Fill(float.NaN);
        for (int t = 0; t < layout.Count; t++)
        {
            var tile = layout.Tiles[t];
            for (int c = 0; c < classes; c++)
            {
                for (int y = 0; y < tile.Height; y++)
                {
                    for (int x = 0; x < tile.Width; x++)
                    {
                        float value = framePlanes[(c * w * h) + ((tile.Y + y) * w) + tile.X + x];
                        output[(t * classes * tw * th) + (c * tw * th) + (y * tw) + x] = value + (perTileOffset?.Invoke(t, c) ?? 0f);
                    }
                }
            }
        }

        return output;
    }

    /// <summary>
    /// Logits [3, h, w] for a class map: the pixel's class gets <paramref name="high"/>, the others <paramref name="low"/>.
    /// </summary>
    public static float[] LogitsFor(byte[] classMap, int width, int height, float high = 6f, float low = -2f)
    {
        int pixels = width * height;
        var planes = new float[3 * pixels];
        for (int i = 0; i < pixels; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                planes[(c * pixels) + i] = classMap[i] == c ? high : low;
            }
        }

        return planes;
    }

    /// <summary>A class map with rectangles painted in.</summary>
    public static byte[] Map(int width, int height, params (int X, int Y, int W, int H, byte Class)[] rectangles)
    {
        var map = new byte[width * height];
        foreach (var (x0, y0, rw, rh, c) in rectangles)
        {
            for (int y = y0; y < y0 + rh; y++)
            {
                for (int x = x0; x < x0 + rw; x++)
                {
                    map[(y * width) + x] = c;
                }
            }
        }

        return map;
    }

    /// <summary>A class map from text: '.' good, digits are class indices, one line per row.</summary>
    public static byte[] Map(out int width, out int height, params string[] rows)
    {
        height = rows.Length;
        width = rows[0].Length;
        var map = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                char ch = rows[y][x];
                map[(y * width) + x] = ch == '.' ? (byte)0 : (byte)(ch - '0');
            }
        }

        return map;
    }

    public static SegmentationPostprocessor Postprocessor(InspectionOptions? options = null, ILogger<SegmentationPostprocessor>? logger = null) =>
        new(Options.Create(options ?? new InspectionOptions()), logger ?? new ListLogger<SegmentationPostprocessor>());

    /// <summary>A manifest whose single tile is the whole frame: the "whole-frame model" reference.</summary>
    public static ModelManifest WholeFrame(int width, int height, OutputKind kind = OutputKind.Logits, OutputActivation activation = OutputActivation.Softmax, int minArea = 1) =>
        TestManifests.Segmentation(width: width, height: height, overlap: 0, kind: kind, activation: activation, linearMinArea: minArea, blobMinArea: minArea);
}
