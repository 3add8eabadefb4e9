using System.Globalization;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>
/// A sysfs tree in a test's own folder, laid out as the kernel lays it out (file names, per-mille load, m°C, Hz for
/// devfreq and kHz for cpufreq, and the devfreq class as links to the device's node), for the health reporter's
/// <c>sysRoot</c>.
/// </summary>
public sealed class FakeSysfs
{
    public FakeSysfs(string root)
    {
        Root = root;
        Directory.CreateDirectory(root);
    }

    public string Root { get; }

    /// <summary><c>class/thermal/thermal_zone{index}</c> with its type, temperature and trip points (type, m°C).</summary>
    public FakeSysfs Zone(int index, string type, long milliCelsius, params (string Type, long MilliCelsius)[] trips)
    {
        string zone = ZoneFolder(index);
        Write(Path.Combine(zone, "type"), type);
        Write(Path.Combine(zone, "mode"), "enabled");
        Temperature(index, milliCelsius);
        for (int k = 0; k < trips.Length; k++)
        {
            Write(Path.Combine(zone, $"trip_point_{k}_type"), trips[k].Type);
            Write(Path.Combine(zone, $"trip_point_{k}_temp"), trips[k].MilliCelsius.ToString(CultureInfo.InvariantCulture));
            Write(Path.Combine(zone, $"trip_point_{k}_hyst"), "2000");
        }

        return this;
    }

    /// <summary>The zone's temperature now, in m°C.</summary>
    public void Temperature(int index, long milliCelsius) =>
        Write(Path.Combine(ZoneFolder(index), "temp"), milliCelsius.ToString(CultureInfo.InvariantCulture));

    /// <summary>The zone's <c>mode</c>: <c>enabled</c> or <c>disabled</c>.</summary>
    public FakeSysfs Mode(int index, string mode)
    {
        Write(Path.Combine(ZoneFolder(index), "mode"), mode);
        return this;
    }

    /// <summary>
    /// The GPU as on Orin: <c>devices/platform/{name}</c> with its <c>load</c> (per mille) and devfreq node, linked from
    /// <c>class/devfreq/{name}</c>, whose <c>device</c> links back (frequencies in Hz).
    /// </summary>
    public FakeSysfs PlatformGpu(string name, long currentHz, long ceilingHz, long[] availableHz, int? loadPerMille)
    {
        string device = Path.Combine(Root, "devices", "platform", name);
        string node = Path.Combine(device, "devfreq", name);
        WriteDevfreq(node, currentHz, ceilingHz, availableHz);
        if (loadPerMille is { } load)
        {
            Write(Path.Combine(device, "load"), load.ToString(CultureInfo.InvariantCulture));
        }

        Directory.CreateSymbolicLink(Path.Combine(node, "device"), Path.Combine("..", ".."));
        Directory.CreateDirectory(Path.Combine(Root, "class", "devfreq"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "class", "devfreq", name), Path.Combine("..", "..", "devices", "platform", name, "devfreq", name));
        return this;
    }

    /// <summary>A devfreq node that is no GPU (the memory controller), linked from <c>class/devfreq/{name}</c>.</summary>
    public FakeSysfs OtherDevfreq(string name, long currentHz, long ceilingHz, long[] availableHz)
    {
        WriteDevfreq(Path.Combine(Root, "devices", "platform", name, "devfreq", name), currentHz, ceilingHz, availableHz);
        Directory.CreateDirectory(Path.Combine(Root, "class", "devfreq"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "class", "devfreq", name), Path.Combine("..", "..", "devices", "platform", name, "devfreq", name));
        return this;
    }

    /// <summary>The GPU as on Nano, TX2 and Xavier: <c>devices/gpu.0/load</c> and <c>devices/gpu.0/devfreq/{name}</c>.</summary>
    public FakeSysfs GpuZero(string name, long currentHz, long ceilingHz, long[] availableHz, int loadPerMille)
    {
        Write(Path.Combine(Root, "devices", "gpu.0", "load"), loadPerMille.ToString(CultureInfo.InvariantCulture));
        WriteDevfreq(Path.Combine(Root, "devices", "gpu.0", "devfreq", name), currentHz, ceilingHz, availableHz);
        return this;
    }

    /// <summary><c>devices/system/cpu/cpufreq/policy{first}</c> for <paramref name="cpus"/> cores (frequencies in kHz).</summary>
    public FakeSysfs CpuPolicy(int first, int cpus, long currentKhz, long ceilingKhz, long hardwareMaxKhz)
    {
        string policy = Path.Combine(Root, "devices", "system", "cpu", "cpufreq", $"policy{first}");
        Write(Path.Combine(policy, "related_cpus"), string.Join(' ', Enumerable.Range(first, cpus)));
        Write(Path.Combine(policy, "scaling_cur_freq"), currentKhz.ToString(CultureInfo.InvariantCulture));
        Write(Path.Combine(policy, "scaling_max_freq"), ceilingKhz.ToString(CultureInfo.InvariantCulture));
        Write(Path.Combine(policy, "cpuinfo_max_freq"), hardwareMaxKhz.ToString(CultureInfo.InvariantCulture));
        Write(Path.Combine(policy, "cpuinfo_min_freq"), "115200");
        return this;
    }

    /// <summary>A file below the root, with the newline the kernel ends every attribute with.</summary>
    public void Write(string relativeOrFull, string content)
    {
        string path = Path.Combine(Root, relativeOrFull);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content + "\n");
    }

    private string ZoneFolder(int index) => Path.Combine(Root, "class", "thermal", $"thermal_zone{index}");

    private void WriteDevfreq(string node, long currentHz, long ceilingHz, long[] availableHz)
    {
        Write(Path.Combine(node, "cur_freq"), currentHz.ToString(CultureInfo.InvariantCulture));
        Write(Path.Combine(node, "max_freq"), ceilingHz.ToString(CultureInfo.InvariantCulture));
        Write(Path.Combine(node, "min_freq"), availableHz[0].ToString(CultureInfo.InvariantCulture));
        Write(Path.Combine(node, "available_frequencies"), string.Join(' ', availableHz));
        Write(Path.Combine(node, "governor"), "nvhost_podgov");
    }
}
