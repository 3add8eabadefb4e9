using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Tiling;

namespace EdgeRuntime.Core.Tests;

public sealed class TileLayoutTests
{
    [Fact]
    public void FrameOfTileSizeIsOneTile()
    {
        TileLayout layout = TileLayout.Create(256, 256, 256, 256, 32);
        Assert.Equal(1, layout.Count);
        Assert.Equal(new PixelRect(0, 0, 256, 256), layout.Tiles[0]);
    }

    [Fact]
    public void LargeFrameTilesCoverEveryPixelWithAtLeastTheOverlapAndEndAtTheEdge()
    {
        TileLayout layout = TileLayout.Create(2048, 1000, 512, 512, 64);
        int[,] cover = new int[1000, 2048];
        foreach (PixelRect tile in layout.Tiles)
        {
            Assert.Equal(512, tile.Width);
            Assert.Equal(512, tile.Height);
            for (int y = tile.Y; y < tile.Y + tile.Height; y++)
            {
                for (int x = tile.X; x < tile.X + tile.Width; x++)
                {
                    cover[y, x]++;
                }
            }
        }

        Assert.DoesNotContain(0, cover.Cast<int>());
        int[] xs = layout.Tiles.ToArray().Select(t => t.X).Distinct().Order().ToArray();
        Assert.Equal(2048 - 512, xs[^1]);
        for (int i = 1; i < xs.Length; i++)
        {
            Assert.True(xs[i - 1] + 512 - xs[i] >= 64, $"overlap between columns {i - 1} and {i} is below 64");
        }
    }

    [Fact]
    public void FrameSmallerThanTileGivesOnePaddedTile()
    {
        TileLayout layout = TileLayout.Create(100, 300, 256, 256, 32);
        Assert.Equal(2, layout.Count);
        Assert.Equal(new PixelRect(0, 0, 100, 256), layout.Tiles[0]);
        Assert.Equal(new PixelRect(0, 44, 100, 256), layout.Tiles[1]);
    }

    [Fact]
    public void OverlapAsLargeAsTheTileIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TileLayout.Create(512, 512, 256, 256, 256));
    }
}
