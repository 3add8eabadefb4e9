using EdgeRuntime.Core.Inspection;

namespace EdgeModels.Cli.Evaluation;

/// <summary>Sums what each image of an evaluation contributes: pixels, verdicts, instances, latency. Not thread-safe.</summary>
internal sealed class EvaluationTally(int classCount)
{
    private readonly PixelConfusion _pixels = new(classCount);
    private int _images;
    private int _defective;
    private int _defectiveFailed;
    private int _good;
    private int _goodFailed;
    private InstanceCounts _instances;
    private double _latencySumMs;
    private readonly List<string> _missed = [];
    private readonly List<string> _falselyRejected = [];

    /// <summary>Counts one image.</summary>
    /// <param name="image">The image's name, listed when its verdict is wrong.</param>
    /// <param name="truth">True class per pixel.</param>
    /// <param name="predicted">The postprocessor's class map.</param>
    /// <param name="verdict">The runtime's verdict for the image.</param>
    /// <param name="instances">The image's instance counts.</param>
    /// <param name="latencyMs">Time from tiling through postprocessing, in milliseconds.</param>
    public void Add(string image, ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted, Verdict verdict, InstanceCounts instances, double latencyMs)
    {
        _pixels.Add(truth, predicted);
        bool failed = verdict == Verdict.Fail;
        if (truth.ContainsAnyExcept((byte)0))
        {
            _defective++;
            _defectiveFailed += failed ? 1 : 0;
            if (!failed)
            {
                _missed.Add(image);
            }
        }
        else
        {
            _good++;
            _goodFailed += failed ? 1 : 0;
            if (failed)
            {
                _falselyRejected.Add(image);
            }
        }

        _instances += instances;
        _latencySumMs += latencyMs;
        _images++;
    }

    /// <summary>The scores so far.</summary>
    /// <param name="model">The model that was evaluated.</param>
    /// <param name="classNames">Class names by index, K of them.</param>
    public EvaluationReport ToReport(ModelIdentity model, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var perClass = new ClassScore[_pixels.ClassCount];
        for (int c = 0; c < perClass.Length; c++)
        {
            long tp = _pixels.TruePositives(c);
            long fp = _pixels.FalsePositives(c);
            long fn = _pixels.FalseNegatives(c);
            perClass[c] = new ClassScore(c, classNames[c], OverlapScore.Iou(tp, fp, fn), OverlapScore.Dice(tp, fp, fn),
                _pixels.TruthPixels(c), _pixels.PredictedPixels(c));
        }

        (long anyTp, long anyFp, long anyFn) = _pixels.AnyDefect();
        return new EvaluationReport
        {
            Model = model,
            Images = _images,
            DefectiveImages = _defective,
            DefectiveImagesFailed = _defectiveFailed,
            GoodImages = _good,
            GoodImagesFailed = _goodFailed,
            MissedImages = [.. _missed],
            FalseRejectImages = [.. _falselyRejected],
            Pixels = _pixels.Pixels,
            PerClass = perClass,
            AnyDefectDice = OverlapScore.Dice(anyTp, anyFp, anyFn),
            Instances = _instances,
            MeanLatencyMs = _images == 0 ? 0 : _latencySumMs / _images,
        };
    }
}
