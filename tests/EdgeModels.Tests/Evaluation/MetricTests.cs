using EdgeModels.Cli.Benchmarking;
using EdgeModels.Cli.Evaluation;

namespace EdgeModels.Tests.Evaluation;

/// <summary>The metric arithmetic on its own: overlap scores, the confusion matrix, percentiles, progress lines.</summary>
public sealed class MetricTests
{
    [Fact]
    public void PerfectPredictionScoresOne()
    {
        byte[] map = [0, 1, 1, 2, 0, 2, 2, 0];
        var confusion = new PixelConfusion(3);

        confusion.Add(map, map);

        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(1.0, OverlapScore.Iou(confusion.TruePositives(c), confusion.FalsePositives(c), confusion.FalseNegatives(c)));
            Assert.Equal(1.0, OverlapScore.Dice(confusion.TruePositives(c), confusion.FalsePositives(c), confusion.FalseNegatives(c)));
        }

        (long tp, long fp, long fn) = confusion.AnyDefect();
        Assert.Equal(1.0, OverlapScore.Dice(tp, fp, fn));
    }

    [Fact]
    public void DisjointPredictionScoresZero()
    {
        byte[] truth = [1, 1, 0, 0];
        byte[] predicted = [0, 0, 1, 1];
        var confusion = new PixelConfusion(2);

        confusion.Add(truth, predicted);

        Assert.Equal(0.0, OverlapScore.Iou(confusion.TruePositives(1), confusion.FalsePositives(1), confusion.FalseNegatives(1)));
        Assert.Equal(0.0, OverlapScore.Dice(confusion.TruePositives(1), confusion.FalsePositives(1), confusion.FalseNegatives(1)));
        Assert.Equal(0.0, OverlapScore.Iou(confusion.TruePositives(0), confusion.FalsePositives(0), confusion.FalseNegatives(0)));
    }

    [Fact]
    public void AClassAbsentFromTruthAndPredictionHasNoScore()
    {
        byte[] map = [0, 0, 1, 1];
        var confusion = new PixelConfusion(3);

        confusion.Add(map, map);

        Assert.Null(OverlapScore.Iou(confusion.TruePositives(2), confusion.FalsePositives(2), confusion.FalseNegatives(2)));
        Assert.Null(OverlapScore.Dice(confusion.TruePositives(2), confusion.FalsePositives(2), confusion.FalseNegatives(2)));
        Assert.Null(OverlapScore.Ratio(0, 0));
    }

    [Fact]
    public void AClassPredictedButNeverTrueScoresZeroNotNull()
    {
        byte[] truth = [0, 0, 0, 0];
        byte[] predicted = [0, 2, 0, 0];
        var confusion = new PixelConfusion(3);

        confusion.Add(truth, predicted);

        Assert.Equal(0.0, OverlapScore.Dice(confusion.TruePositives(2), confusion.FalsePositives(2), confusion.FalseNegatives(2)));
    }

    [Fact]
    public void DiceAndIouFollowTheirDefinitions()
    {
        // TP 3, FP 1, FN 2: IoU = 3 / 6, Dice = 6 / 9.
        Assert.Equal(0.5, OverlapScore.Iou(3, 1, 2));
        Assert.Equal(6.0 / 9, OverlapScore.Dice(3, 1, 2));
    }

    [Fact]
    public void AnyDefectDiceMergesDefectClasses()
    {
        // A true 1 called 2 is right for "any defect" and wrong for both classes.
        byte[] truth = [1, 1, 0, 2];
        byte[] predicted = [2, 1, 1, 0];
        var confusion = new PixelConfusion(3);

        confusion.Add(truth, predicted);

        Assert.Equal((2L, 1L, 1L), confusion.AnyDefect());
        Assert.Equal(1, confusion.TruePositives(1));
        Assert.Equal(1, confusion.FalsePositives(1));
        Assert.Equal(1, confusion.FalseNegatives(1));
    }

    [Fact]
    public void AClassIndexOutsideTheModelIsRefused()
    {
        var confusion = new PixelConfusion(3);

        ArgumentException error = Assert.Throws<ArgumentException>(() => confusion.Add([0, 3], [0, 0]));

        Assert.Contains("class 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PercentilesAreNearestRank()
    {
        double[] sorted = [.. Enumerable.Range(1, 100).Select(i => (double)i)];

        Assert.Equal(50, LatencySummary.Percentile(sorted, 50));
        Assert.Equal(90, LatencySummary.Percentile(sorted, 90));
        Assert.Equal(99, LatencySummary.Percentile(sorted, 99));
        Assert.Equal(100, LatencySummary.Percentile(sorted, 100));
        Assert.Equal(7, LatencySummary.Percentile([7.0], 99));

        // Of 10 runs, p99 is the slowest: nine values cover only 90%.
        Assert.Equal(10, LatencySummary.Percentile([.. Enumerable.Range(1, 10).Select(i => (double)i)], 99));
    }

    [Fact]
    public void LatencySummarySortsItsOwnCopy()
    {
        double[] latencies = [5, 1, 3];

        LatencySummary summary = LatencySummary.From(latencies);

        Assert.Equal(new LatencySummary(3, 3, 1, 3, 5, 5, 5), summary);
        Assert.Equal([5.0, 1, 3], latencies);
    }

    [Fact]
    public void ProgressPrintsEveryFivePercentAndTheEnd()
    {
        using var writer = new StringWriter();
        var progress = new ProgressLine(writer);

        for (int done = 1; done <= 300; done++)
        {
            progress.Report(done, 300);
        }

        string[] lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20, lines.Length);
        Assert.Equal("[ 15/300] 5%", lines[0]);
        Assert.Contains("[120/300] 40%", lines);
        Assert.Equal("[300/300] 100%", lines[^1]);
    }
}
