using EdgeRuntime.Core.Triggers;

namespace EdgeRuntime.Core.Frames;

/// <summary>
/// Where frames come from: a camera, a replayed folder, a synthetic generator. Called by the capture
/// stage only, one call at a time.
/// </summary>
public interface IFrameSource
{
    /// <summary>Short name used in logs and health (e.g. <c>replay</c>, <c>camera</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Takes the frame that belongs to <paramref name="trigger"/>. The caller owns the returned frame and
    /// disposes it. Throws <see cref="FrameSourceException"/> when this frame cannot be taken but the source
    /// may work for the next trigger; any other exception means the source is broken.
    /// </summary>
    ValueTask<Frame> CaptureAsync(TriggerSignal trigger, CancellationToken cancellationToken);
}

/// <summary>A frame could not be taken for one trigger; the source itself may still work.</summary>
public sealed class FrameSourceException : Exception
{
    public FrameSourceException(string message)
        : base(message)
    {
    }

    public FrameSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The source has no more frames (a replay that does not loop has played its last image). Not a fault:
/// the pipeline stops taking triggers, flushes what is in flight and ends normally.
/// </summary>
public class EndOfFramesException : Exception
{
    public EndOfFramesException()
        : base("the frame source has no more frames")
    {
    }

    public EndOfFramesException(string message)
        : base(message)
    {
    }

    public EndOfFramesException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
