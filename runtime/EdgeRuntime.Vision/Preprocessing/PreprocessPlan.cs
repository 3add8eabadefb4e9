using System.Collections.Concurrent;
using EdgeRuntime.Core.Tiling;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Vision.Preprocessing;

/// <summary>
/// What one manifest asks of the preprocessing, worked out once: the per-channel multiply-add, the input
/// geometry and the tile layouts per frame size. Immutable apart from the layout cache; thread-safe.
/// </summary>
internal sealed class PreprocessPlan
{
    // Frame sizes seen by one model are few (one camera, or a replay folder); the bound only stops a folder of
    // odd-sized images from growing the cache without end.
    private const int MaxCachedLayouts = 64;

    private readonly ConcurrentDictionary<long, TileLayout> _layouts = new();
    private readonly ChannelAffine[] _affines;

    public PreprocessPlan(ModelManifest manifest)
    {
        InputSpec input = manifest.Input;
        Width = input.Width;
        Height = input.Height;
        Channels = input.Channels;
        ColorOrder = input.ColorOrder;
        Resize = input.Resize;

        // One channel has identical NCHW and NHWC memory order; treating it as NCHW keeps one code path.
        Layout = Channels == 1 ? TensorLayout.Nchw : input.Layout;
        int expectedChannels = ColorOrder == ColorOrder.Gray ? 1 : 3;
        NormalizationSpec normalization = input.Normalization;
        if (Channels != expectedChannels || normalization.Mean.Count != Channels || normalization.Std.Count != Channels)
        {
            throw new InvalidOperationException(
                $"model {manifest.Id} {manifest.Version}: input.channels {Channels}, colorOrder {ColorOrder}, " +
                $"{normalization.Mean.Count} mean and {normalization.Std.Count} std values do not agree");
        }

        _affines = new ChannelAffine[Channels];
        for (int c = 0; c < Channels; c++)
        {
            // (pixel * scale - mean) / std == pixel * (scale / std) + (-mean / std), worked out in double once.
            double std = normalization.Std[c];
            _affines[c] = new ChannelAffine((float)(normalization.Scale / std), (float)(-normalization.Mean[c] / std));
        }

        if (Resize == ResizeMode.Tile)
        {
            if (manifest.Tiling is not { } tiling)
            {
                throw new InvalidOperationException($"model {manifest.Id} {manifest.Version}: input.resize is tile but the manifest has no tiling section");
            }

            Overlap = tiling.Overlap;
        }
    }

    /// <summary>Model input width in pixels.</summary>
    public int Width { get; }

    /// <summary>Model input height in pixels.</summary>
    public int Height { get; }

    /// <summary>Input channels (1 or 3).</summary>
    public int Channels { get; }

    public ColorOrder ColorOrder { get; }

    /// <summary>Memory order actually used (NCHW whenever there is one channel).</summary>
    public TensorLayout Layout { get; }

    public ResizeMode Resize { get; }

    /// <summary>Minimum tile overlap in pixels (tile mode).</summary>
    public int Overlap { get; }

    /// <summary>Floats in one batch item.</summary>
    public int ItemElements => Channels * Width * Height;

    /// <summary>Per-channel multiply-add, in the model's channel order.</summary>
    public ReadOnlySpan<ChannelAffine> Affines => _affines;

    public TileLayout GetLayout(int frameWidth, int frameHeight)
    {
        long key = ((long)frameWidth << 32) | (uint)frameHeight;
        if (_layouts.TryGetValue(key, out TileLayout? layout))
        {
            return layout;
        }

        layout = Resize == ResizeMode.Tile
            ? TileLayout.Create(frameWidth, frameHeight, Width, Height, Overlap)
            : TileLayout.Create(frameWidth, frameHeight, frameWidth, frameHeight, 0);
        return _layouts.Count < MaxCachedLayouts ? _layouts.GetOrAdd(key, layout) : layout;
    }
}
