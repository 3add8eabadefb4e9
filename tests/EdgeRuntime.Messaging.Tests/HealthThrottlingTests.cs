using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Messaging.Connection;
using EdgeRuntime.Messaging.Health;
using EdgeRuntime.Messaging.Options;
using EdgeRuntime.Messaging.Outbox;
using EdgeRuntime.Messaging.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using static EdgeRuntime.Messaging.Tests.Support.PayloadSchemas;

namespace EdgeRuntime.Messaging.Tests;

/// <summary>
/// Health's temperatures, GPU load and throttling against sysfs trees written by the tests: a Jetson Orin's (zones with
/// trip points, the GPU's devfreq node in the devfreq class, cpufreq clusters), an older Jetson's (gpu.0) and boards
/// without them, where the fields must be absent rather than guessed.
/// </summary>
public sealed class HealthThrottlingTests : IDisposable
{
    private static readonly long[] s_orinGpuHz = [306000000, 612000000, 918000000, 1300500000];
    private readonly string _directory = Directory.CreateTempSubdirectory("health-sysfs-").FullName;
    private readonly DurableOutbox _outbox;

    public HealthThrottlingTests() =>
        _outbox = DurableOutbox.Open(Path.Combine(_directory, "outbox"), new OutboxOptions(), TimeProvider.System, NullLogger.Instance);

    public void Dispose()
    {
        _outbox.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private HealthReporter Reporter(string sysRoot) =>
        new(new PipelineLedger(), new LatencyStatistics(TimeProvider.System), null, null, _outbox, new MqttConnectionState(), TimeProvider.System, sysRoot);

    private FakeSysfs Sysfs() => new(Path.Combine(_directory, "sys"));

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static string[] Problems(JsonElement health) => Strings(health.GetProperty("problems"));

    [Fact]
    public async Task AZoneAtItsPassiveTripPointIsThermalThrottlingAProblemAndDegradedUntilItCools()
    {
        FakeSysfs sys = Sysfs()
            .Zone(0, "CPU-therm", 99500, ("passive", 99000), ("critical", 104500))
            .Zone(1, "GPU-therm", 47000, ("passive", 99000), ("hot", 103000), ("critical", 104500))
            .Zone(2, "CV0-therm", -256000, ("passive", 99000))
            .Zone(3, "SOC0-therm", 60000, ("active", 50000))
            .OtherDevfreq("15340000.vic", 115200000, 1036800000, [115200000, 1036800000])
            .PlatformGpu("17000000.ga10b", 612000000, 1300500000, s_orinGpuHz, 450)
            .CpuPolicy(0, 4, 1113600, 2201600, 2201600)
            .CpuPolicy(4, 4, 1497600, 1497600, 2201600);
        HealthReporter reporter = Reporter(sys.Root);

        JsonElement hot = HealthJson.Of(reporter);
        Assert.Equal("degraded", hot.GetProperty("state").GetString());
        Assert.Equal(["thermal throttling: CPU-therm at 99.5 C, at or above its passive trip point 99.0 C"], Problems(hot));
        JsonElement throttling = hot.GetProperty("throttling");
        Assert.True(throttling.GetProperty("thermal").GetBoolean());
        Assert.Equal(["CPU-therm"], Strings(throttling.GetProperty("zones")));
        Assert.Empty(Strings(throttling.GetProperty("hotZones")));

        // The GPU is the node named for it, not the first devfreq node; its clock is against the top of its table.
        Assert.Equal(Math.Round(100.0 * 612000000 / 1300500000, 1), throttling.GetProperty("gpuClockPercent").GetDouble());
        Assert.Equal(100, throttling.GetProperty("gpuCapPercent").GetDouble());
        Assert.Equal(45.0, hot.GetProperty("gpuLoadPercent").GetDouble());

        // Two clusters of four cores: the second capped at 1.4976 GHz of 2.2016 GHz.
        Assert.Equal(Math.Round(100.0 * ((1113600 * 4) + (1497600 * 4)) / (2201600 * 8), 1), throttling.GetProperty("cpuClockPercent").GetDouble());
        Assert.Equal(Math.Round(100.0 * 1497600 / 2201600, 1), throttling.GetProperty("cpuCapPercent").GetDouble());

        // A sensor that is off (-256 C) is no temperature, and throttles nothing although -256 is below its trip point.
        JsonElement temperatures = hot.GetProperty("temperaturesC");
        Assert.Equal(["CPU-therm", "GPU-therm", "SOC0-therm"], temperatures.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(99.5, temperatures.GetProperty("CPU-therm").GetDouble());

        sys.Temperature(0, 60000);
        JsonElement cooled = HealthJson.Of(reporter);
        Assert.Equal("ready", cooled.GetProperty("state").GetString());
        Assert.Empty(Problems(cooled));
        Assert.False(cooled.GetProperty("throttling").GetProperty("thermal").GetBoolean());
        Assert.Empty(Strings(cooled.GetProperty("throttling").GetProperty("zones")));
        Assert.Equal(60.0, cooled.GetProperty("temperaturesC").GetProperty("CPU-therm").GetDouble());

        await AssertValidAsync([new Item("health.schema.json", hot), new Item("health.schema.json", cooled)]);
    }

    [Fact]
    public async Task HotAndCriticalTripPointsAreProblemsAndADisabledZoneThrottlesNothing()
    {
        FakeSysfs sys = Sysfs()
            .Zone(0, "GPU-therm", 103500, ("passive", 99000), ("hot", 103000), ("critical", 104500))
            .Zone(1, "CPU-therm", 100000, ("passive", 99000))
            .Mode(1, "disabled");
        HealthReporter reporter = Reporter(sys.Root);

        JsonElement hot = HealthJson.Of(reporter);
        Assert.Equal("degraded", hot.GetProperty("state").GetString());
        Assert.Equal(
            ["thermal throttling: GPU-therm at 103.5 C, at or above its passive trip point 99.0 C", "thermal: GPU-therm at 103.5 C, at or above its hot trip point 103.0 C"],
            Problems(hot));
        Assert.Equal(["GPU-therm"], Strings(hot.GetProperty("throttling").GetProperty("zones")));
        Assert.Equal(["GPU-therm"], Strings(hot.GetProperty("throttling").GetProperty("hotZones")));
        Assert.Equal(100.0, hot.GetProperty("temperaturesC").GetProperty("CPU-therm").GetDouble());

        sys.Temperature(0, 105000);
        JsonElement critical = HealthJson.Of(reporter);
        Assert.Contains("thermal: GPU-therm at 105.0 C, at or above its critical trip point 104.5 C", Problems(critical));

        // No clock source on this board: the throttling object carries only what the zones say.
        Assert.False(critical.GetProperty("throttling").TryGetProperty("gpuClockPercent", out _));
        Assert.False(critical.GetProperty("throttling").TryGetProperty("cpuClockPercent", out _));
        await AssertValidAsync([new Item("health.schema.json", hot), new Item("health.schema.json", critical)]);
    }

    [Fact]
    public async Task AHostWithoutBoardSensorsLeavesTemperaturesGpuAndThrottlingOut()
    {
        foreach (string root in (string[])[Sysfs().Root, Path.Combine(_directory, "no-such-sys")])
        {
            JsonElement health = HealthJson.Of(Reporter(root));
            Assert.Equal("ready", health.GetProperty("state").GetString());
            Assert.False(health.TryGetProperty("temperaturesC", out _));
            Assert.False(health.TryGetProperty("gpuLoadPercent", out _));
            Assert.False(health.TryGetProperty("throttling", out _));
            await AssertValidAsync([new Item("health.schema.json", health)]);
        }
    }

    [Fact]
    public async Task WithoutTripPointsAGpuNodeOrAHardwareMaximumNoThrottlingIsGuessed()
    {
        // A PC: two zones of one type and no trip points; a devfreq node that is no GPU; a GPU node without its frequency
        // table; a cpufreq policy without cpuinfo_max_freq.
        FakeSysfs sys = Sysfs()
            .Zone(2, "acpitz", 41000)
            .Zone(10, "acpitz", 43000)
            .Zone(9, "x86_pkg_temp", 52000)
            .OtherDevfreq("15340000.vic", 115200000, 1036800000, [115200000, 1036800000])
            .CpuPolicy(0, 8, 3400000, 4200000, 4200000);
        File.Delete(Path.Combine(sys.Root, "devices", "system", "cpu", "cpufreq", "policy0", "cpuinfo_max_freq"));
        JsonElement health = HealthJson.Of(Reporter(sys.Root));
        Assert.Equal(["acpitz@thermal_zone2", "x86_pkg_temp", "acpitz@thermal_zone10"],
            health.GetProperty("temperaturesC").EnumerateObject().Select(p => p.Name).ToArray());
        Assert.False(health.TryGetProperty("gpuLoadPercent", out _));
        Assert.False(health.TryGetProperty("throttling", out _));

        FakeSysfs orin = new FakeSysfs(Path.Combine(_directory, "orin")).PlatformGpu("17000000.ga10b", 612000000, 1300500000, s_orinGpuHz, null);
        File.Delete(Path.Combine(orin.Root, "devices", "platform", "17000000.ga10b", "devfreq", "17000000.ga10b", "available_frequencies"));
        JsonElement noTable = HealthJson.Of(Reporter(orin.Root));
        Assert.False(noTable.TryGetProperty("gpuLoadPercent", out _));
        Assert.False(noTable.TryGetProperty("throttling", out _));
        await AssertValidAsync([new Item("health.schema.json", health), new Item("health.schema.json", noTable)]);
    }

    [Fact]
    public async Task AnOlderJetsonsGpuIsReadUnderGpuZero()
    {
        FakeSysfs sys = Sysfs().GpuZero("57000000.gpu", 460800000, 640000000, [76800000, 460800000, 921600000], 631);
        JsonElement health = HealthJson.Of(Reporter(sys.Root));
        Assert.Equal(63.1, health.GetProperty("gpuLoadPercent").GetDouble());
        JsonElement throttling = health.GetProperty("throttling");
        Assert.Equal(Math.Round(100.0 * 460800000 / 921600000, 1), throttling.GetProperty("gpuClockPercent").GetDouble());
        Assert.Equal(Math.Round(100.0 * 640000000 / 921600000, 1), throttling.GetProperty("gpuCapPercent").GetDouble());
        Assert.False(throttling.TryGetProperty("thermal", out _));
        await AssertValidAsync([new Item("health.schema.json", health)]);
    }

    [Fact]
    public async Task TheSchemaRefusesThrottlingThatContradictsItself()
    {
        FakeSysfs sys = Sysfs()
            .Zone(0, "CPU-therm", 99500, ("passive", 99000), ("critical", 104500))
            .PlatformGpu("17000000.ga10b", 612000000, 1300500000, s_orinGpuHz, 450)
            .CpuPolicy(0, 4, 1113600, 2201600, 2201600);
        JsonObject good = JsonNode.Parse(HealthJson.Of(Reporter(sys.Root)).GetRawText())!.AsObject();
        JsonObject[] broken =
        [
            With(good, t => t["zones"] = new JsonArray()),
            With(good, t => t["thermal"] = false),
            With(good, t => t.Remove("zones")),
            With(good, t => t["cpuCapPercent"] = 120),
            With(good, t => t.Remove("cpuCapPercent")),
            With(good, t => t["hotZones"] = new JsonArray("CPU-therm", "CPU-therm")),
            With(good, t => t["fanPercent"] = 40),
        ];
        string[][] errors = await ValidateAsync([new Item("health.schema.json", JsonSerializer.SerializeToElement(good)),
            .. broken.Select(b => new Item("health.schema.json", JsonSerializer.SerializeToElement(b)))]);

        Assert.Empty(errors[0]);
        for (int i = 0; i < broken.Length; i++)
        {
            Assert.True(errors[i + 1].Length > 0, "the schema accepted " + broken[i]["throttling"]!.ToJsonString());
        }
    }

    private static JsonObject With(JsonObject health, Action<JsonObject> breakThrottling)
    {
        JsonObject copy = health.DeepClone().AsObject();
        breakThrottling(copy["throttling"]!.AsObject());
        return copy;
    }
}
