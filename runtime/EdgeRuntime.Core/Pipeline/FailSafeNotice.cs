using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Triggers;

namespace EdgeRuntime.Core.Pipeline;

/// <summary>A trigger that gets the fail-safe verdict instead of an inspection; small, so storms of them cost little.</summary>
internal readonly record struct FailSafeNotice(long Sequence, TriggerSignal Trigger, ResultStatus Status, string Reason, string FrameId);

/// <summary>What the publish stage takes: an inspected job, or a fail-safe notice.</summary>
internal readonly struct PublishItem
{
    public PublishItem(InspectionJob job)
    {
        Job = job;
        Notice = default;
    }

    public PublishItem(FailSafeNotice notice)
    {
        Job = null;
        Notice = notice;
    }

    public InspectionJob? Job { get; }

    public FailSafeNotice Notice { get; }
}
