namespace EdgeRuntime.Vision.Synthetic;

/// <summary>The physical kind of a synthetic defect; <see cref="DefectKindExtensions.ClassIndex"/> maps it to a model class.</summary>
public enum DefectKind
{
    /// <summary>Thin curved line, 1-4 px wide (class linear).</summary>
    Scratch,

    /// <summary>Branching, jagged line, 1-2 px wide (class linear).</summary>
    Crack,

    /// <summary>Small irregular dark or bright blob (class blob).</summary>
    Spot,

    /// <summary>Irregular blob with a graded interior and a tint (class blob).</summary>
    Stain,

    /// <summary>Cluster of 1-4 small dots (class blob).</summary>
    Pit,
}

/// <summary>Class indices of the sample segmentation model and the mapping from defect kinds.</summary>
public static class DefectKindExtensions
{
    /// <summary>Mask value of defect-free pixels.</summary>
    public const byte GoodClass = 0;

    /// <summary>Mask value of scratches and cracks.</summary>
    public const byte LinearClass = 1;

    /// <summary>Mask value of spots, stains and pits.</summary>
    public const byte BlobClass = 2;

    /// <summary>The mask value (model class index) the kind is labelled with.</summary>
    public static byte ClassIndex(this DefectKind kind) => kind switch
    {
        DefectKind.Scratch or DefectKind.Crack => LinearClass,
        DefectKind.Spot or DefectKind.Stain or DefectKind.Pit => BlobClass,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown defect kind."),
    };
}
