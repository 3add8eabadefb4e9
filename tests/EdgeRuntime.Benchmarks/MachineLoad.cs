using System.Globalization;

namespace EdgeRuntime.Benchmarks;

/// <summary>How busy the machine is, for the report: figures taken on a loaded machine say so.</summary>
internal static class MachineLoad
{
    /// <summary>The 1-, 5- and 15-minute load averages (Linux), or "unknown".</summary>
    public static string Read()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path))
        {
            return "unknown";
        }

        string[] fields = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 3 ? string.Join(' ', fields[..3]) : "unknown";
    }

    /// <summary>Share of the machine's cores a process got: its CPU seconds over wall seconds times cores.</summary>
    public static double Share(double cpuSeconds, double wallSeconds) =>
        wallSeconds > 0 ? cpuSeconds / (wallSeconds * Environment.ProcessorCount) : double.NaN;

    public static string Percent(double share) => double.IsFinite(share) ? share.ToString("P0", CultureInfo.InvariantCulture) : "unknown";
}
