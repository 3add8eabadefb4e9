using System.Diagnostics.Tracing;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// Which types the process allocates, sampled by the runtime itself: the GC raises an <c>AllocationTick</c> event about
/// every 100 KB allocated, naming the type of the object that crossed the mark, so over megabytes the counts approach
/// each type's share of the bytes. For <c>--allocations</c> only: the listener allocates as it receives events, so runs
/// with it do not report allocation figures of their own. Thread-safe.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const int AllocationTickEventId = 10;
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (int Samples, long Bytes)> _types = new(StringComparer.Ordinal);
    private bool _recording;

    public void Start()
    {
        lock (_gate)
        {
            _types.Clear();
            _recording = true;
        }
    }

    /// <summary>Stops recording; returns the sampled types, most bytes first.</summary>
    public IReadOnlyList<(string Type, int Samples, long Bytes)> Stop()
    {
        lock (_gate)
        {
            _recording = false;
            return [.. _types.Select(t => (t.Key, t.Value.Samples, t.Value.Bytes)).OrderByDescending(t => t.Bytes)];
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId != AllocationTickEventId || eventData.PayloadNames is null || eventData.Payload is null)
        {
            return;
        }

        string type = "?";
        long bytes = 0;
        for (int i = 0; i < eventData.PayloadNames.Count; i++)
        {
            switch (eventData.PayloadNames[i])
            {
                case "TypeName":
                    type = eventData.Payload[i] as string ?? "?";
                    break;
                case "AllocationAmount64":
                    bytes = Convert.ToInt64(eventData.Payload[i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                default:
                    break;
            }
        }

        lock (_gate)
        {
            if (!_recording)
            {
                return;
            }

            (int samples, long total) = _types.GetValueOrDefault(type);
            _types[type] = (samples + 1, total + bytes);
        }
    }
}
