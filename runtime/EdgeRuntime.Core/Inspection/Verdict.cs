namespace EdgeRuntime.Core.Inspection;

/// <summary>What happens to the part.</summary>
public enum Verdict
{
    /// <summary>No defect passed its class's limits: ship the part.</summary>
    Pass,

    /// <summary>At least one defect passed its class's limits, or the part could not be judged in time: reject it.</summary>
    Fail,
}

/// <summary>How a result came about.</summary>
public enum ResultStatus
{
    /// <summary>The model judged the frame before the deadline.</summary>
    Inspected,

    /// <summary>No verdict by the trigger's deadline: the fail-safe verdict was issued.</summary>
    DeadlineMissed,

    /// <summary>The trigger was dropped by an overload policy: the fail-safe verdict was issued.</summary>
    Dropped,

    /// <summary>Capture or inference failed for this trigger: the fail-safe verdict was issued.</summary>
    Error,
}
