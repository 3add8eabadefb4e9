using System.Globalization;

namespace EdgeModels.Cli.Evaluation;

/// <summary>
/// Writes <c>[ 120/300] 40%</c> lines to a writer (stderr), one each time another <see cref="StepPercent"/> percent
/// is done and one at the end, so a log of a long run stays short. Not thread-safe.
/// </summary>
internal sealed class ProgressLine(TextWriter writer, string? label = null)
{
    /// <summary>Percent between two lines.</summary>
    public const int StepPercent = 5;

    private int _nextPercent = StepPercent;

    /// <summary>Reports that <paramref name="done"/> of <paramref name="total"/> items are finished.</summary>
    public void Report(int done, int total)
    {
        int percent = total == 0 ? 100 : (int)(100L * done / total);
        if (percent < _nextPercent && done != total)
        {
            return;
        }

        _nextPercent = ((percent / StepPercent) + 1) * StepPercent;
        string count = done.ToString(CultureInfo.InvariantCulture).PadLeft(total.ToString(CultureInfo.InvariantCulture).Length);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}[{count}/{total}] {percent}%"));
    }
}
