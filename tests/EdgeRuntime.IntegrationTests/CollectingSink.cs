using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;

namespace EdgeRuntime.IntegrationTests;

/// <summary>A sink that keeps a copy of every result, as MQTT or the archive would see them.</summary>
internal sealed class CollectingSink : IResultSink
{
    private readonly Lock _gate = new();
    private readonly List<InspectionResult> _results = [];

    public string Name => "test";

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

    public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
    {
        var copy = new InspectionResult();
        result.CopyTo(copy);
        lock (_gate)
        {
            _results.Add(copy);
        }

        return ValueTask.CompletedTask;
    }
}
