using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;

namespace EdgeRuntime.Testing;

/// <summary>
/// A result sink that keeps a copy of every published result, as MQTT or the archive would see them. Thread-safe.
/// Shared by the test projects as a linked source file (tests/Shared), not copied.
/// </summary>
internal sealed class CollectingSink : IResultSink
{
    private readonly Lock _gate = new();
    private readonly List<InspectionResult> _results = [];
    private int _framesSeen;

    public string Name => "collect";

    /// <summary>Results that arrived with their frame.</summary>
    public int FramesSeen => Volatile.Read(ref _framesSeen);

    public IReadOnlyList<InspectionResult> Results
    {
        get
        {
            lock (_gate)
            {
                return _results.ToArray();
            }
        }
    }

    public int Count(Func<InspectionResult, bool> match)
    {
        lock (_gate)
        {
            return _results.Count(match);
        }
    }

    public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
    {
        var copy = new InspectionResult();
        result.CopyTo(copy);
        if (frame is not null)
        {
            Interlocked.Increment(ref _framesSeen);
        }

        lock (_gate)
        {
            _results.Add(copy);
        }

        return ValueTask.CompletedTask;
    }
}
