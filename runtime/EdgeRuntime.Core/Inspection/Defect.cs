namespace EdgeRuntime.Core.Inspection;

/// <summary>An axis-aligned rectangle in frame pixels.</summary>
public readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    /// <summary>Whether the two rectangles share at least one pixel.</summary>
    public bool Overlaps(PixelRect other) =>
        X < other.X + other.Width && other.X < X + Width && Y < other.Y + other.Height && other.Y < Y + Height;
}

/// <summary>
/// One connected region of a defect class in the frame.
/// </summary>
/// <param name="ClassIndex">Index of the class in the model manifest (never 0, which is good).</param>
/// <param name="Bounds">Bounding box in frame pixels.</param>
/// <param name="Area">Pixel count of the region.</param>
/// <param name="CentroidX">Centroid x in frame pixels.</param>
/// <param name="CentroidY">Centroid y in frame pixels.</param>
/// <param name="MaxScore">Highest class probability in the region (0..1).</param>
/// <param name="MeanScore">Mean class probability over the region (0..1).</param>
public readonly record struct Defect(
    int ClassIndex,
    PixelRect Bounds,
    int Area,
    float CentroidX,
    float CentroidY,
    float MaxScore,
    float MeanScore);
