using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Core.Sinks;

/// <summary>
/// Receives every result: MQTT, the reject output, the console, the image archive, the diagnostics page.
/// Called by the publish stage only, one result at a time, in publishing order. A sink must return quickly:
/// slow work (network, encoding images) goes to the sink's own bounded queue. The result and the frame are
/// reused after the call returns; copy what you keep. The frame is null for fail-safe
/// results that never had a frame.
/// </summary>
public interface IResultSink
{
    /// <summary>Short name used in logs and health.</summary>
    string Name { get; }

    /// <summary>Takes one result.</summary>
    ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken);
}
