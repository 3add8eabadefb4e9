using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace EdgeRuntime.Messaging.Health;

/// <summary>
/// The board's temperatures, GPU load and throttling, read from sysfs where the kernel exposes them: thermal zones and
/// their trip points, the GPU's load file and devfreq node (Jetson), cpufreq policies. A value whose file is absent or
/// unreadable is left out, never guessed. Which files exist is found once, at the first <see cref="Sample"/>: the tree is
/// fixed after boot (a CPU cluster taken offline fails its reads and is left out). Each sample then re-reads only the
/// values, through a stack buffer, without exceptions for absent files and without strings unless a zone is throttled.
/// Not thread-safe: the health loop owns it.
/// </summary>
internal sealed class BoardSensors
{
    /// <summary>
    /// A reading at or below -256 °C is no temperature: Jetson's firmware reports -256 °C for a sensor whose rail is off,
    /// and the kernel marks an unused trip point lower still (-274 °C).
    /// </summary>
    private const long NoReadingMilliCelsius = -256_000;

    /// <summary>What the GPU's devfreq node is called on Jetson: 17000000.ga10b (Orin), 17000000.gv11b (Xavier), 17000000.gp10b (TX2), 57000000.gpu (Nano, TX1).</summary>
    private static readonly string[] s_gpuNodeNames = ["gpu", "ga10b", "gv11b", "gp10b", "gm20b"];

    private readonly string _sysRoot;
    private bool _discovered;
    private Zone[] _zones = [];
    private CpuPolicy[] _cpuPolicies = [];
    private string? _gpuLoadPath;
    private string? _gpuCurrentPath;
    private string? _gpuCeilingPath;
    private long _gpuTopHz;

    private double? _gpuLoadPercent;
    private double? _gpuClockPercent;
    private double? _gpuCapPercent;
    private double? _cpuClockPercent;
    private double? _cpuCapPercent;

    /// <param name="sysRoot">Root of the sysfs tree: <c>/sys</c>, or a folder of fake files in tests.</param>
    public BoardSensors(string sysRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(sysRoot);
        _sysRoot = sysRoot;
    }

    /// <summary>Reads every value once; <see cref="AddProblems"/> and <see cref="Write"/> report this sample.</summary>
    public void Sample()
    {
        if (!_discovered)
        {
            Discover();
            _discovered = true;
        }

        foreach (Zone zone in _zones)
        {
            zone.Sample();
        }

        _gpuLoadPercent = _gpuLoadPath is not null && TryReadNumber(_gpuLoadPath, out long load) && load >= 0 ? load / 10.0 : null; // per mille
        _gpuClockPercent = _gpuCurrentPath is not null && TryReadNumber(_gpuCurrentPath, out long current) && current >= 0 ? Percent(current, _gpuTopHz) : null;
        _gpuCapPercent = _gpuCeilingPath is not null && TryReadNumber(_gpuCeilingPath, out long ceiling) && ceiling > 0 ? Percent(ceiling, _gpuTopHz) : null;

        // Clusters weigh by their cores: the clock share is of the whole CPU's capacity, the cap that of the most capped cluster.
        double clock = 0;
        double capacity = 0;
        double lowestCap = double.MaxValue;
        foreach (CpuPolicy policy in _cpuPolicies)
        {
            if (TryReadNumber(policy.CurrentPath, out long khz) && khz >= 0 && TryReadNumber(policy.CeilingPath, out long ceilingKhz) && ceilingKhz > 0)
            {
                clock += (double)khz * policy.Cpus;
                capacity += (double)policy.HardwareMaxKhz * policy.Cpus;
                lowestCap = Math.Min(lowestCap, (double)ceilingKhz / policy.HardwareMaxKhz);
            }
        }

        _cpuClockPercent = capacity > 0 ? Math.Round(100 * clock / capacity, 1) : null;
        _cpuCapPercent = capacity > 0 ? Math.Round(100 * lowestCap, 1) : null;
    }

    /// <summary>Adds a problem for each zone at or above a passive (throttling), hot or critical trip point.</summary>
    public void AddProblems(List<string> problems)
    {
        foreach (Zone zone in _zones)
        {
            if (zone.PassiveReached is { } passive)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"thermal throttling: {zone.Name} at {zone.MilliCelsius / 1000.0:0.0} C, at or above its passive trip point {passive / 1000.0:0.0} C"));
            }

            if (zone.HotReached is { } hot)
            {
                string kind = zone.HotReachedIsCritical ? "critical" : "hot";
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"thermal: {zone.Name} at {zone.MilliCelsius / 1000.0:0.0} C, at or above its {kind} trip point {hot / 1000.0:0.0} C"));
            }
        }
    }

    /// <summary>Writes <c>temperaturesC</c>, <c>gpuLoadPercent</c> and <c>throttling</c>, each only where its source exists.</summary>
    public void Write(Utf8JsonWriter writer)
    {
        bool anyTemperature = false;
        bool passiveSource = false;
        bool throttled = false;
        bool hotSource = false;
        foreach (Zone zone in _zones)
        {
            anyTemperature |= zone.HasTemperature;
            passiveSource |= zone.HasPassiveTrip;
            throttled |= zone.PassiveReached is not null;
            hotSource |= zone.HasHotTrip;
        }

        if (anyTemperature)
        {
            writer.WriteStartObject("temperaturesC");
            foreach (Zone zone in _zones)
            {
                if (zone.HasTemperature)
                {
                    writer.WriteNumber(zone.Name, Math.Round(zone.MilliCelsius / 1000.0, 1));
                }
            }

            writer.WriteEndObject();
        }

        if (_gpuLoadPercent is { } load)
        {
            writer.WriteNumber("gpuLoadPercent", load);
        }

        if (!passiveSource && !hotSource && _gpuClockPercent is null && _gpuCapPercent is null && _cpuClockPercent is null)
        {
            return;
        }

        writer.WriteStartObject("throttling");
        if (passiveSource)
        {
            writer.WriteBoolean("thermal", throttled);
            writer.WriteStartArray("zones");
            foreach (Zone zone in _zones)
            {
                if (zone.PassiveReached is not null)
                {
                    writer.WriteStringValue(zone.Name);
                }
            }

            writer.WriteEndArray();
        }

        if (hotSource)
        {
            writer.WriteStartArray("hotZones");
            foreach (Zone zone in _zones)
            {
                if (zone.HotReached is not null)
                {
                    writer.WriteStringValue(zone.Name);
                }
            }

            writer.WriteEndArray();
        }

        WriteOptional(writer, "gpuClockPercent", _gpuClockPercent);
        WriteOptional(writer, "gpuCapPercent", _gpuCapPercent);
        WriteOptional(writer, "cpuClockPercent", _cpuClockPercent);
        WriteOptional(writer, "cpuCapPercent", _cpuCapPercent);
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
    }

    private static double Percent(long part, long whole) => Math.Round(100.0 * part / whole, 1);

    private void Discover()
    {
        _zones = DiscoverZones(Path.Combine(_sysRoot, "class", "thermal"));

        // The GPU's devfreq node: under gpu.0 on older Jetsons, else the one in the devfreq class named for the GPU (Orin).
        string? gpu = FirstDevfreqNode(Path.Combine(_sysRoot, "devices", "gpu.0", "devfreq"), anyName: true)
            ?? FirstDevfreqNode(Path.Combine(_sysRoot, "class", "devfreq"), anyName: false);
        if (gpu is not null)
        {
            // The top of the frequency table is the hardware's maximum; max_freq is the ceiling in force (power mode,
            // user or thermal cap), cur_freq the clock now. Without the table a percentage would have no honest base.
            _gpuTopHz = Highest(ReadText(Path.Combine(gpu, "available_frequencies")));
            if (_gpuTopHz > 0)
            {
                _gpuCurrentPath = Path.Combine(gpu, "cur_freq");
                _gpuCeilingPath = Path.Combine(gpu, "max_freq");
            }
        }

        string legacyLoad = Path.Combine(_sysRoot, "devices", "gpu.0", "load");
        string? deviceLoad = gpu is null ? null : Path.Combine(gpu, "device", "load");
        _gpuLoadPath = File.Exists(legacyLoad) ? legacyLoad : deviceLoad is not null && File.Exists(deviceLoad) ? deviceLoad : null;

        _cpuPolicies = DiscoverCpuPolicies(Path.Combine(_sysRoot, "devices", "system", "cpu", "cpufreq"));
    }

    private static Zone[] DiscoverZones(string thermal)
    {
        if (!Directory.Exists(thermal))
        {
            return [];
        }

        var found = new List<(int Index, string Folder, string Type)>();
        foreach (string folder in Directory.GetDirectories(thermal, "thermal_zone*"))
        {
            string? type = ReadText(Path.Combine(folder, "type"));
            if (type is not null && File.Exists(Path.Combine(folder, "temp"))
                && int.TryParse(Path.GetFileName(folder.AsSpan())["thermal_zone".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                found.Add((index, folder, type.Length > 0 ? type : Path.GetFileName(folder)));
            }
        }

        // In zone order (thermal_zone10 after thermal_zone9). A type that several zones share (acpitz on a PC) is named
        // with its zone, so that no JSON key repeats.
        found.Sort((a, b) => a.Index.CompareTo(b.Index));
        var zones = new Zone[found.Count];
        for (int i = 0; i < found.Count; i++)
        {
            (_, string folder, string type) = found[i];
            bool shared = found.Count(f => f.Type == type) > 1;
            zones[i] = new Zone(shared ? type + "@" + Path.GetFileName(folder) : type, folder, DiscoverTrips(folder));
        }

        return zones;
    }

    private static Trip[] DiscoverTrips(string zone)
    {
        var trips = new List<Trip>();
        foreach (string typeFile in Directory.GetFiles(zone, "trip_point_*_type"))
        {
            TripKind? kind = ReadText(typeFile) switch
            {
                "passive" => TripKind.Passive,
                "hot" => TripKind.Hot,
                "critical" => TripKind.Critical,
                _ => null, // active: a fan, not a slowdown
            };
            string temperature = string.Concat(typeFile.AsSpan(0, typeFile.Length - "type".Length), "temp");
            if (kind is { } k && File.Exists(temperature))
            {
                trips.Add(new Trip(temperature, k));
            }
        }

        return [.. trips];
    }

    private static string? FirstDevfreqNode(string folder, bool anyName)
    {
        if (!Directory.Exists(folder))
        {
            return null;
        }

        // The devfreq class holds links to the nodes; a link to a folder is listed as a folder.
        string[] nodes = Directory.GetDirectories(folder);
        Array.Sort(nodes, StringComparer.Ordinal);
        foreach (string node in nodes)
        {
            if ((anyName || IsGpuName(Path.GetFileName(node))) && File.Exists(Path.Combine(node, "cur_freq")) && File.Exists(Path.Combine(node, "max_freq")))
            {
                return node;
            }
        }

        return null;
    }

    private static bool IsGpuName(string name)
    {
        foreach (string gpu in s_gpuNodeNames)
        {
            if (name.Contains(gpu, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static CpuPolicy[] DiscoverCpuPolicies(string cpufreq)
    {
        if (!Directory.Exists(cpufreq))
        {
            return [];
        }

        var policies = new List<CpuPolicy>();
        foreach (string policy in Directory.GetDirectories(cpufreq, "policy*"))
        {
            string current = Path.Combine(policy, "scaling_cur_freq");
            string ceiling = Path.Combine(policy, "scaling_max_freq");
            if (File.Exists(current) && File.Exists(ceiling) && TryReadNumber(Path.Combine(policy, "cpuinfo_max_freq"), out long hardwareMax) && hardwareMax > 0)
            {
                // related_cpus: every core of the cluster, online or not; one core where the file is missing.
                int cpus = ReadText(Path.Combine(policy, "related_cpus"))?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length ?? 1;
                policies.Add(new CpuPolicy(current, ceiling, hardwareMax, Math.Max(1, cpus)));
            }
        }

        return [.. policies];
    }

    private static long Highest(string? numbers)
    {
        long highest = 0;
        if (numbers is not null)
        {
            foreach (string number in numbers.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                {
                    highest = Math.Max(highest, value);
                }
            }
        }

        return highest;
    }

    /// <summary>A whole sysfs file as trimmed text, or null when it is absent or refuses the read; for discovery only.</summary>
    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Some attributes refuse reads (a sensor asleep): the value is left out.
            return null;
        }
    }

    /// <summary>A sysfs file holding one integer, read into a stack buffer; false when absent, unreadable or not a number.</summary>
    private static bool TryReadNumber(string path, out long value)
    {
        Span<byte> buffer = stackalloc byte[32];
        int length = ReadStart(path, buffer);
        value = 0;
        if (length <= 0 || length == buffer.Length)
        {
            return false; // absent, refused, empty, or longer than any number
        }

        ReadOnlySpan<byte> text = ((ReadOnlySpan<byte>)buffer[..length]).Trim(" \t\n"u8);
        return Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length && text.Length > 0;
    }

    /// <summary>Whether a sysfs file starts with the given bytes (<c>mode</c> = <c>disabled</c>).</summary>
    private static bool StartsWith(string path, ReadOnlySpan<byte> prefix)
    {
        Span<byte> buffer = stackalloc byte[16];
        int length = ReadStart(path, buffer);
        return length >= prefix.Length && buffer[..length].StartsWith(prefix);
    }

    /// <summary>The first bytes of a file; -1 when it is absent or refuses the read.</summary>
    private static int ReadStart(string path, Span<byte> buffer)
    {
        // No File.Exists probe first: discovery has found the files sampled each period, and one that has gone since is
        // a FileNotFoundException, an IOException like a refused read.
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return RandomAccess.Read(handle, buffer, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A sensor may refuse a read (asleep, its rail off): left out of this sample.
            return -1;
        }
    }

    private enum TripKind
    {
        Passive,
        Hot,
        Critical,
    }

    private readonly record struct Trip(string TemperaturePath, TripKind Kind);

    private sealed record CpuPolicy(string CurrentPath, string CeilingPath, long HardwareMaxKhz, int Cpus);

    /// <summary>One thermal zone: found once, sampled each health period.</summary>
    private sealed class Zone(string name, string folder, Trip[] trips)
    {
        private readonly string _temperaturePath = Path.Combine(folder, "temp");
        // Only a passive trip point depends on the zone being enabled, and only a zone with a mode file can be disabled.
        private readonly string? _modePath = Array.Exists(trips, t => t.Kind == TripKind.Passive) && File.Exists(Path.Combine(folder, "mode"))
            ? Path.Combine(folder, "mode")
            : null;

        /// <summary>The key in <c>temperaturesC</c>: the zone's type.</summary>
        public string Name { get; } = name;

        public bool HasTemperature { get; private set; }

        public long MilliCelsius { get; private set; }

        /// <summary>The zone has a passive trip point the kernel acts on (the zone is enabled).</summary>
        public bool HasPassiveTrip { get; private set; }

        /// <summary>The highest passive trip point the zone is at or above, in m°C; null when none.</summary>
        public long? PassiveReached { get; private set; }

        public bool HasHotTrip { get; private set; }

        /// <summary>The highest hot or critical trip point the zone is at or above, in m°C; null when none.</summary>
        public long? HotReached { get; private set; }

        public bool HotReachedIsCritical { get; private set; }

        public void Sample()
        {
            HasPassiveTrip = false;
            PassiveReached = null;
            HasHotTrip = false;
            HotReached = null;
            HotReachedIsCritical = false;
            HasTemperature = TryReadNumber(_temperaturePath, out long milli) && milli > NoReadingMilliCelsius;
            MilliCelsius = milli;
            if (!HasTemperature)
            {
                return;
            }

            // The kernel evaluates no trip point of a disabled zone, so such a zone throttles nothing.
            bool enabled = _modePath is null || !StartsWith(_modePath, "disabled"u8);
            foreach (Trip trip in trips)
            {
                if (!TryReadNumber(trip.TemperaturePath, out long at) || at <= NoReadingMilliCelsius)
                {
                    continue;
                }

                bool reached = milli >= at;
                if (trip.Kind == TripKind.Passive)
                {
                    HasPassiveTrip |= enabled;
                    if (enabled && reached && (PassiveReached is null || at > PassiveReached))
                    {
                        PassiveReached = at;
                    }
                }
                else
                {
                    HasHotTrip = true;
                    if (reached && (HotReached is null || at > HotReached))
                    {
                        HotReached = at;
                        HotReachedIsCritical = trip.Kind == TripKind.Critical;
                    }
                }
            }
        }
    }
}
