using System.Text.Json;
using EdgeModels.Cli.Commands;

namespace EdgeModels.Tests.Evaluation;

/// <summary>bench on the tiny colour-segmenter package: valid JSON with the documented keys, and option checks.</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly EvaluationTestFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task JsonHasThroughputLatencyAndTheProvider()
    {
        (int exitCode, string output, string error) = await EvaluationTestFolder.RunAsync(
            BenchCommand.Create(), "--model", _folder.Package, "--batch", "3", "--warmup", "2", "--iterations", "7", "--threads", "1", "--json");

        Assert.True(exitCode == 0, error);
        using JsonDocument json = JsonDocument.Parse(output);
        JsonElement root = json.RootElement;
        Assert.Equal("CPU", root.GetProperty("model").GetProperty("provider").GetString());
        Assert.Equal("colour-segmenter", root.GetProperty("package").GetString());
        Assert.Equal(3, root.GetProperty("batch").GetInt32());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal(7, root.GetProperty("runs").GetInt32());
        double items = root.GetProperty("itemsPerSecond").GetDouble();
        double frames = root.GetProperty("framesPerSecond").GetDouble();
        Assert.True(items > 0);
        Assert.Equal(items / 3, frames, 0.01 * frames);
        JsonElement latency = root.GetProperty("latencyMs");
        double p50 = latency.GetProperty("p50").GetDouble();
        double p90 = latency.GetProperty("p90").GetDouble();
        double p99 = latency.GetProperty("p99").GetDouble();
        Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99, $"p50 {p50}, p90 {p90}, p99 {p99}");
        Assert.False(root.TryGetProperty("compare", out _));
    }

    [Fact]
    public async Task CompareMeasuresBothModelsInAlternatingRounds()
    {
        string baseline = EvaluationTestFolder.WritePackage(Path.Combine(_folder.Root, "baseline"), "baseline", minArea: 3);

        (int exitCode, string output, string error) = await EvaluationTestFolder.RunAsync(
            BenchCommand.Create(), "--model", _folder.Package, "--compare", baseline, "--iterations", "8", "--rounds", "4", "--warmup", "1", "--json");

        Assert.True(exitCode == 0, error);
        using JsonDocument json = JsonDocument.Parse(output);
        JsonElement root = json.RootElement;
        JsonElement compare = root.GetProperty("compare");
        Assert.Equal("baseline", compare.GetProperty("package").GetString());
        Assert.Equal(8, root.GetProperty("runs").GetInt32());
        Assert.Equal(8, compare.GetProperty("runs").GetInt32());
        Assert.Equal(4, root.GetProperty("rounds").GetInt32());
        double ratio = root.GetProperty("throughputRatio").GetDouble();
        double expected = root.GetProperty("itemsPerSecond").GetDouble() / compare.GetProperty("itemsPerSecond").GetDouble();
        Assert.Equal(expected, ratio, 0.01 * expected);
        JsonElement rounds = root.GetProperty("roundRatios");
        Assert.True(rounds.GetProperty("min").GetDouble() <= rounds.GetProperty("median").GetDouble());
        Assert.True(rounds.GetProperty("median").GetDouble() <= rounds.GetProperty("max").GetDouble());
    }

    [Fact]
    public async Task TextNamesTheProviderAndThePercentiles()
    {
        (int exitCode, string output, string error) = await EvaluationTestFolder.RunAsync(
            BenchCommand.Create(), "--model", Path.Combine(_folder.Package, "manifest.json"), "--iterations", "3", "--warmup", "0");

        Assert.True(exitCode == 0, error);
        Assert.Contains("on CPU", output, StringComparison.Ordinal);
        Assert.Contains("p99", output, StringComparison.Ordinal);
        Assert.Contains("items/s", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--iterations", "5", "--seconds", "1", "exclude each other")]
    [InlineData("--batch", "0", "--warmup", "1", "--batch 0")]
    [InlineData("--threads", "-1", "--warmup", "1", "--threads -1")]
    public async Task ImpossibleOptionsAreRefusedBeforeAnyModelLoads(string option1, string value1, string option2, string value2, string expected)
    {
        (int exitCode, string output, string error) = await EvaluationTestFolder.RunAsync(
            BenchCommand.Create(), "--model", Path.Combine(_folder.Root, "nowhere"), option1, value1, option2, value2);

        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingPackageIsNamed()
    {
        string missing = Path.Combine(_folder.Root, "nowhere");

        (int exitCode, _, string error) = await EvaluationTestFolder.RunAsync(BenchCommand.Create(), "--model", missing, "--iterations", "1");

        Assert.Equal(1, exitCode);
        Assert.Contains(missing, error, StringComparison.Ordinal);
    }
}
