using EdgeRuntime.Core.Frames;

namespace EdgeRuntime.Hardware.Sources;

/// <summary>
/// A replay that does not loop has handed out its last image. This is the end of the run, not a fault: the
/// pipeline stops taking triggers, flushes what is in flight and ends normally (see <see cref="EndOfFramesException"/>).
/// </summary>
public sealed class ReplayFinishedException : EndOfFramesException
{
    public ReplayFinishedException()
        : base("the replay folder has been played to its end")
    {
    }

    public ReplayFinishedException(string message)
        : base(message)
    {
    }

    public ReplayFinishedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Frames handed out before the end.</summary>
    public long FramesReplayed { get; init; }
}
