namespace EdgeRuntime.Core.Triggers;

/// <summary>
/// One part passing the camera: the moment the trigger fired, on both clocks. The UTC time is for
/// people and other systems; the monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>) is what
/// deadlines and latencies are measured on, because wall clocks jump (NTP, RTC drift on boot).
/// </summary>
/// <param name="UtcTime">Wall-clock time of the trigger.</param>
/// <param name="Timestamp">Monotonic timestamp of the trigger in <see cref="TimeProvider.TimestampFrequency"/> units.</param>
/// <param name="Source">Name of the trigger source (timer, free-run, software, gpio...).</param>
/// <param name="Correlation">Optional caller-supplied id (a software trigger's request id, a PLC part number).</param>
public readonly record struct TriggerSignal(DateTimeOffset UtcTime, long Timestamp, string Source, string? Correlation = null);
