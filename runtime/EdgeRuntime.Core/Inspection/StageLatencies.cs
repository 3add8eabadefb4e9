namespace EdgeRuntime.Core.Inspection;

/// <summary>Pipeline stages, in the order a frame passes them.</summary>
public enum PipelineStage
{
    /// <summary>Waiting for and taking the frame from the source.</summary>
    Capture,

    /// <summary>Resize/tile, colour order and normalisation into the input tensor.</summary>
    Preprocess,

    /// <summary>The model run.</summary>
    Inference,

    /// <summary>Stitching, thresholds, connected components and the verdict.</summary>
    Postprocess,

    /// <summary>Handing the result to the sinks.</summary>
    Publish,
}

/// <summary>
/// Time spent per stage for one trigger, in milliseconds, queueing included in the stage that waited.
/// A fixed-size value so recording it allocates nothing.
/// </summary>
public struct StageLatencies
{
    /// <summary>Number of stages recorded.</summary>
    public const int Count = 5;

    private double _capture;
    private double _preprocess;
    private double _inference;
    private double _postprocess;
    private double _publish;

    /// <summary>Trigger to verdict, in milliseconds.</summary>
    public double TotalMilliseconds { get; set; }

    /// <summary>Milliseconds spent in <paramref name="stage"/>.</summary>
    public double this[PipelineStage stage]
    {
        readonly get => stage switch
        {
            PipelineStage.Capture => _capture,
            PipelineStage.Preprocess => _preprocess,
            PipelineStage.Inference => _inference,
            PipelineStage.Postprocess => _postprocess,
            PipelineStage.Publish => _publish,
            _ => throw new ArgumentOutOfRangeException(nameof(stage)),
        };
        set
        {
            switch (stage)
            {
                case PipelineStage.Capture: _capture = value; break;
                case PipelineStage.Preprocess: _preprocess = value; break;
                case PipelineStage.Inference: _inference = value; break;
                case PipelineStage.Postprocess: _postprocess = value; break;
                case PipelineStage.Publish: _publish = value; break;
                default: throw new ArgumentOutOfRangeException(nameof(stage));
            }
        }
    }
}
