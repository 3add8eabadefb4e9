using EdgeRuntime.Core.Triggers;

namespace EdgeRuntime.Core.Inspection;

/// <summary>
/// The outcome of one trigger. Results are pooled with their pipeline job and reused: a sink that keeps
/// anything beyond <see cref="Sinks.IResultSink.PublishAsync"/> must copy it (see <see cref="CopyTo"/>).
/// </summary>
public sealed class InspectionResult
{
    private readonly List<Defect> _defects = new(capacity: 16);

    /// <summary>Monotonically increasing sequence number, persisted across restarts.</summary>
    public long Sequence { get; set; }

    /// <summary>Identifier of the frame (empty when no frame was captured).</summary>
    public string FrameId { get; set; } = string.Empty;

    /// <summary>The trigger that asked for this result.</summary>
    public TriggerSignal Trigger { get; set; }

    /// <summary>PASS or FAIL.</summary>
    public Verdict Verdict { get; set; }

    /// <summary>Whether the verdict came from the model or from the fail-safe.</summary>
    public ResultStatus Status { get; set; }

    /// <summary>Why a fail-safe verdict was issued (a drop reason or error); null for inspected frames.</summary>
    public string? Reason { get; set; }

    /// <summary>Frame width in pixels (0 when no frame was captured).</summary>
    public int ImageWidth { get; set; }

    /// <summary>Frame height in pixels (0 when no frame was captured).</summary>
    public int ImageHeight { get; set; }

    /// <summary>The defects found, largest impact first in detection order; valid until the result is reused.</summary>
    public IReadOnlyList<Defect> Defects => _defects;

    /// <summary>Per-stage latencies.</summary>
    public StageLatencies Latencies;

    /// <summary>Which model judged the frame.</summary>
    public ModelIdentity Model { get; set; } = ModelIdentity.None;

    /// <summary>Class names by index, from the model manifest (index 0 is good).</summary>
    public IReadOnlyList<string> ClassNames { get; set; } = [];

    /// <summary>Adds a defect.</summary>
    public void AddDefect(in Defect defect) => _defects.Add(defect);

    /// <summary>Name of a class index, or its number when unknown.</summary>
    public string ClassName(int classIndex) =>
        (uint)classIndex < (uint)ClassNames.Count ? ClassNames[classIndex] : "class" + classIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Clears the result for reuse.</summary>
    public void Reset()
    {
        _defects.Clear();
        Sequence = 0;
        FrameId = string.Empty;
        Trigger = default;
        Verdict = Verdict.Pass;
        Status = ResultStatus.Inspected;
        Reason = null;
        ImageWidth = 0;
        ImageHeight = 0;
        Latencies = default;
        Model = ModelIdentity.None;
        ClassNames = [];
    }

    /// <summary>Copies everything into <paramref name="destination"/> (for sinks that keep results).</summary>
    public void CopyTo(InspectionResult destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Reset();
        destination.Sequence = Sequence;
        destination.FrameId = FrameId;
        destination.Trigger = Trigger;
        destination.Verdict = Verdict;
        destination.Status = Status;
        destination.Reason = Reason;
        destination.ImageWidth = ImageWidth;
        destination.ImageHeight = ImageHeight;
        destination.Latencies = Latencies;
        destination.Model = Model;
        destination.ClassNames = ClassNames;
        destination._defects.AddRange(_defects);
    }
}
