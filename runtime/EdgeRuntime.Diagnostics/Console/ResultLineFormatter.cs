using System.Globalization;
using System.Text;
using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Diagnostics.Console;

/// <summary>
/// The one-line rendering of a result a person reads on the console:
/// <c>#000042 FAIL 2 defects (linear, blob)  38.1 ms  00007.png</c>. Not thread-safe (reuses its builder).
/// </summary>
public sealed class ResultLineFormatter
{
    private readonly StringBuilder _line = new(160);
    private readonly HashSet<int> _classesSeen = [];

    /// <summary>Formats <paramref name="result"/>; the returned builder is reused by the next call.</summary>
    public StringBuilder Format(InspectionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        CultureInfo invariant = CultureInfo.InvariantCulture;
        _line.Clear();
        _line.Append('#').Append(result.Sequence.ToString("D6", invariant)).Append(' ');
        _line.Append(result.Verdict == Verdict.Pass ? "PASS" : "FAIL");
        if (result.Status != ResultStatus.Inspected)
        {
            _line.Append(" (").Append(StatusName(result.Status));
            if (result.Reason is not null && result.Status != ResultStatus.DeadlineMissed)
            {
                _line.Append(": ").Append(result.Reason);
            }

            _line.Append(')');
        }
        else
        {
            int count = result.Defects.Count;
            _line.Append(' ').Append(count).Append(count == 1 ? " defect" : " defects");
            if (count > 0)
            {
                _line.Append(" (");
                _classesSeen.Clear();
                bool first = true;
                foreach (Defect defect in result.Defects)
                {
                    if (_classesSeen.Add(defect.ClassIndex))
                    {
                        _line.Append(first ? string.Empty : ", ").Append(result.ClassName(defect.ClassIndex));
                        first = false;
                    }
                }

                _line.Append(')');
            }
        }

        _line.Append("  ").Append(result.Latencies.TotalMilliseconds.ToString("F1", invariant)).Append(" ms");
        if (result.FrameId.Length > 0)
        {
            _line.Append("  ").Append(result.FrameId);
        }

        return _line;
    }

    /// <summary>Stable lower-case name of a status, as used in results and logs.</summary>
    public static string StatusName(ResultStatus status) => status switch
    {
        ResultStatus.Inspected => "inspected",
        ResultStatus.DeadlineMissed => "deadline-missed",
        ResultStatus.Dropped => "dropped",
        ResultStatus.Error => "error",
        _ => status.ToString(),
    };
}
