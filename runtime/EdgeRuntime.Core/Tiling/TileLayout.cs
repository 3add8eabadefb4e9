using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Core.Tiling;

/// <summary>
/// How a frame is cut into model-sized tiles. Tiles have the model's fixed input size (so an
/// accelerator's optimisation profile is never left); where the frame is smaller than a tile the tile
/// is padded. Neighbouring tiles overlap by at least <see cref="Overlap"/> pixels and are spread evenly,
/// so the last tile ends exactly at the frame's edge. Immutable and thread-safe; cache one per frame size.
/// </summary>
public sealed class TileLayout
{
    private readonly PixelRect[] _tiles;

    private TileLayout(int frameWidth, int frameHeight, int tileWidth, int tileHeight, int overlap, PixelRect[] tiles)
    {
        FrameWidth = frameWidth;
        FrameHeight = frameHeight;
        TileWidth = tileWidth;
        TileHeight = tileHeight;
        Overlap = overlap;
        _tiles = tiles;
    }

    /// <summary>Frame width in pixels.</summary>
    public int FrameWidth { get; }

    /// <summary>Frame height in pixels.</summary>
    public int FrameHeight { get; }

    /// <summary>Tile (model input) width in pixels.</summary>
    public int TileWidth { get; }

    /// <summary>Tile (model input) height in pixels.</summary>
    public int TileHeight { get; }

    /// <summary>Minimum overlap between neighbouring tiles in pixels.</summary>
    public int Overlap { get; }

    /// <summary>Number of tiles.</summary>
    public int Count => _tiles.Length;

    /// <summary>
    /// The tiles' rectangles in frame coordinates, row-major. A tile's rectangle can be smaller than the
    /// tile size only where the frame itself is smaller; the rest of that tile is padding.
    /// </summary>
    public ReadOnlySpan<PixelRect> Tiles => _tiles;

    /// <summary>Computes the layout for a frame size.</summary>
    public static TileLayout Create(int frameWidth, int frameHeight, int tileWidth, int tileHeight, int overlap)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frameWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frameHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tileWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tileHeight);
        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        if (overlap >= Math.Min(tileWidth, tileHeight))
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "overlap must be smaller than the tile size");
        }

        Span<int> xs = stackalloc int[Positions(frameWidth, tileWidth, overlap, [])];
        Positions(frameWidth, tileWidth, overlap, xs);
        Span<int> ys = stackalloc int[Positions(frameHeight, tileHeight, overlap, [])];
        Positions(frameHeight, tileHeight, overlap, ys);

        var tiles = new PixelRect[xs.Length * ys.Length];
        int i = 0;
        foreach (int y in ys)
        {
            foreach (int x in xs)
            {
                tiles[i++] = new PixelRect(x, y, Math.Min(tileWidth, frameWidth - x), Math.Min(tileHeight, frameHeight - y));
            }
        }

        return new TileLayout(frameWidth, frameHeight, tileWidth, tileHeight, overlap, tiles);
    }

    /// <summary>Start offsets along one axis; returns how many there are (writes them when the span is large enough).</summary>
    private static int Positions(int frame, int tile, int overlap, Span<int> destination)
    {
        if (frame <= tile)
        {
            if (destination.Length > 0)
            {
                destination[0] = 0;
            }

            return 1;
        }

        int stride = tile - overlap;
        int count = (frame - overlap + stride - 1) / stride;
        if (destination.Length >= count)
        {
            // Spread evenly between 0 and frame - tile, so overlaps are equal and never below the minimum.
            for (int i = 0; i < count; i++)
            {
                destination[i] = (int)Math.Round((double)i * (frame - tile) / (count - 1), MidpointRounding.AwayFromZero);
            }
        }

        return count;
    }
}
