using EdgeModels.Cli.Evaluation;
using EdgeRuntime.Core.Inspection;

namespace EdgeModels.Tests.Evaluation;

/// <summary>Instance recall rules on hand-drawn 8x4 maps.</summary>
public sealed class DefectInstanceMatcherTests : IDisposable
{
    private const int Width = 8;
    private const int Height = 4;

    private readonly DefectInstanceMatcher _matcher = new();

    public void Dispose() => _matcher.Dispose();

    [Fact]
    public void ATrueDefectTouchedByAReportedDefectOfAnotherClassIsRecalled()
    {
        byte[] truth = Map(
            "11000000",
            "00000000",
            "00000000",
            "00000000");
        byte[] predicted = Map(
            "02200000",
            "00000000",
            "00000000",
            "00000000");

        InstanceCounts counts = Match(truth, predicted, Defect(2, 1, 0, 2, 1, 2));

        Assert.Equal(new InstanceCounts(1, 1, 1, 0), counts);
    }

    [Fact]
    public void PredictedPixelsTheRuntimeDidNotReportRecallNothing()
    {
        byte[] truth = Map(
            "11000000",
            "00000000",
            "00000000",
            "00000000");
        byte[] predicted = truth;

        // The postprocessor left the 2-pixel component out (below its minimum area): no defects reported.
        InstanceCounts counts = Match(truth, predicted);

        Assert.Equal(new InstanceCounts(1, 0, 0, 0), counts);
    }

    [Fact]
    public void DiagonalNeighboursAreOneInstanceAndDifferentClassesAreTwo()
    {
        byte[] truth = Map(
            "10000022",
            "01000022",
            "00100000",
            "00000000");
        byte[] predicted = new byte[Width * Height];

        InstanceCounts counts = Match(truth, predicted);

        Assert.Equal(2, counts.TruthInstances);
        Assert.Equal(0, counts.RecalledInstances);
    }

    [Fact]
    public void AReportedDefectOnGoodPixelsIsAFalseDefect()
    {
        byte[] truth = Map(
            "00000000",
            "00000000",
            "00000000",
            "00000001");
        byte[] predicted = Map(
            "00000000",
            "01100000",
            "01100000",
            "00000001");

        InstanceCounts counts = Match(truth, predicted, Defect(1, 1, 1, 2, 2, 4), Defect(1, 7, 3, 1, 1, 1));

        Assert.Equal(new InstanceCounts(1, 1, 2, 1), counts);
    }

    [Fact]
    public void ADefectWithoutItsComponentInTheClassMapIsRefused()
    {
        byte[] empty = new byte[Width * Height];

        Assert.Throws<InvalidOperationException>(() => Match(empty, empty, Defect(1, 0, 0, 1, 1, 1)));
    }

    private InstanceCounts Match(byte[] truth, byte[] predicted, params Defect[] reported) =>
        _matcher.Match(truth, predicted, Width, Height, classCount: 3, reported);

    private static Defect Defect(int classIndex, int x, int y, int width, int height, int area) =>
        new(classIndex, new PixelRect(x, y, width, height), area, x, y, 0.9f, 0.9f);

    private static byte[] Map(params string[] rows) => [.. rows.SelectMany(row => row.Select(c => (byte)(c - '0')))];
}
