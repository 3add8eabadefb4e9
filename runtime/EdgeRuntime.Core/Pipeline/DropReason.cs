namespace EdgeRuntime.Core.Pipeline;

/// <summary>Why a trigger got no inspection. Every drop is counted under exactly one reason.</summary>
public enum DropReason
{
    /// <summary>All frame buffers were in flight (<see cref="PipelineOptions.MaxInFlight"/>).</summary>
    PipelineFull,

    /// <summary>The trigger queue was full.</summary>
    TriggerQueueFull,

    /// <summary>The preprocess queue was full.</summary>
    PreprocessQueueFull,

    /// <summary>The inference queue was full.</summary>
    InferenceQueueFull,

    /// <summary>The postprocess queue was full.</summary>
    PostprocessQueueFull,

    /// <summary>The frame could not be captured.</summary>
    CaptureFailed,

    /// <summary>Preprocessing, inference or postprocessing failed for this frame.</summary>
    ProcessingFailed,

    /// <summary>No model was ready.</summary>
    NoModel,

    /// <summary>The service stopped before the frame was judged.</summary>
    ShuttingDown,

    /// <summary>The frame source had no more frames (end of a replay that does not loop).</summary>
    SourceEnded,
}

/// <summary>Names of drop reasons as they appear in results and health (kebab-case, stable).</summary>
public static class DropReasonNames
{
    private static readonly string[] s_names = Enum.GetValues<DropReason>().Select(ToKebab).ToArray();

    /// <summary>The stable kebab-case name.</summary>
    public static string Name(this DropReason reason) => s_names[(int)reason];

    private static string ToKebab(DropReason reason)
    {
        string name = reason.ToString();
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}
