namespace EdgeModels.Cli.Evaluation;

/// <summary>
/// Overlap scores from pixel (or instance) counts. Every score is null when its denominator is zero: a class that
/// appears neither in the truth nor in the prediction has nothing to score, and reporting 1.0 for it would lift a
/// table of classes the evaluation set never exercised.
/// </summary>
internal static class OverlapScore
{
    /// <summary>Intersection over union, <c>TP / (TP + FP + FN)</c>; null when all three are zero.</summary>
    public static double? Iou(long truePositives, long falsePositives, long falseNegatives) =>
        Ratio(truePositives, truePositives + falsePositives + falseNegatives);

    /// <summary>Dice (F1), <c>2 TP / (2 TP + FP + FN)</c>; null when all three are zero.</summary>
    public static double? Dice(long truePositives, long falsePositives, long falseNegatives) =>
        Ratio(2 * truePositives, (2 * truePositives) + falsePositives + falseNegatives);

    /// <summary><paramref name="part"/> / <paramref name="whole"/>; null when <paramref name="whole"/> is zero.</summary>
    public static double? Ratio(long part, long whole)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(part);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(part, whole);
        return whole == 0 ? null : (double)part / whole;
    }
}
