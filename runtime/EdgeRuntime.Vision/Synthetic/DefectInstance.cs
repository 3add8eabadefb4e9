using OpenCvSharp;

namespace EdgeRuntime.Vision.Synthetic;

/// <summary>One defect painted into a synthetic scene.</summary>
/// <param name="Kind">What was painted.</param>
/// <param name="ClassIndex">The mask value its pixels carry (unless a later defect painted over them).</param>
/// <param name="Bounds">Bounding box, in pixels, of every pixel the defect changed; always inside the image.</param>
public readonly record struct DefectInstance(DefectKind Kind, byte ClassIndex, Rect Bounds);

/// <summary>What a rendered scene contains besides its pixels.</summary>
/// <param name="Surface">The surface the scene shows.</param>
/// <param name="DefectCount">How many defects were painted; zero for a good part.</param>
public readonly record struct SceneSummary(SurfaceKind Surface, int DefectCount);
