using System.Diagnostics;
using System.Text.Json;

namespace EdgeRuntime.IntegrationTests;

/// <summary>The edge-runtime executable as a person or systemd runs it.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("edge-proc-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string arguments, IDictionary<string, string>? environment = null)
    {
        using Process process = RuntimeProcess.Start(arguments, environment);
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await errors);
    }

    [Fact]
    public async Task CheckConfigListsEveryProblemNamingKeyValueAndWhatIsAllowed()
    {
        string config = Path.Combine(_state, "bad.json");
        await File.WriteAllTextAsync(config, """
        {
          "Pipeline": { "DeadlineMs": -5, "MaxInFlgiht": 3, "TriggerQueue": { "Policy": "Sometimes" } },
          "Trigger": { "Kind": "Laser" },
          "Archive": { "PassSampleRate": 1.5 },
          "Mqtt2": { }
        }
        """);

        (int exitCode, string output, string errors) = await RunAsync($"check-config \"{config}\"");

        Assert.Equal(2, exitCode);
        Assert.Contains("Pipeline:DeadlineMs = -5: must be between 1 and 600000 milliseconds", errors, StringComparison.Ordinal);
        Assert.Contains("Pipeline:MaxInFlgiht: unknown key", errors, StringComparison.Ordinal);
        Assert.Contains("Pipeline:TriggerQueue:Policy = \"Sometimes\": must be one of DropOldest, DropNewest, Block", errors, StringComparison.Ordinal);
        Assert.Contains("Trigger:Kind = \"Laser\": must be one of", errors, StringComparison.Ordinal);
        Assert.Contains("Archive:PassSampleRate = 1.5", errors, StringComparison.Ordinal);
        Assert.Contains("Mqtt2: unknown section", errors, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task EnvironmentOverridesWinOverTheConfigFile()
    {
        string config = Path.Combine(_state, "good.json");
        await File.WriteAllTextAsync(config, """{ "Pipeline": { "DeadlineMs": 500 } }""");
        (int exitCode, _, string errors) = await RunAsync($"check-config \"{config}\"",
            new Dictionary<string, string> { ["EDGERUNTIME_Pipeline__DeadlineMs"] = "0" });
        Assert.Equal(2, exitCode);
        Assert.Contains("Pipeline:DeadlineMs = 0:", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedConfigFileIsRefusedNamingTheFileAndPosition()
    {
        string config = Path.Combine(_state, "broken.json");
        await File.WriteAllTextAsync(config, "{ \"Pipeline\": { \"DeadlineMs\": 5 ");
        (int exitCode, _, string errors) = await RunAsync($"run --config \"{config}\"");
        Assert.Equal(2, exitCode);
        Assert.Contains(config, errors, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InterruptStopsTheServiceCleanlyAfterFlushingWhatIsInFlight()
    {
        using Process process = RuntimeProcess.Start("run", new Dictionary<string, string>
        {
            ["EDGERUNTIME_Model__Package"] = RepositoryPaths.SampleModel,
            ["EDGERUNTIME_Source__Replay__Directory"] = RepositoryPaths.Samples,
            ["EDGERUNTIME_Pipeline__StateDirectory"] = _state,
            ["EDGERUNTIME_Archive__Directory"] = Path.Combine(_state, "archive"),
            ["EDGERUNTIME_Console__SummaryIntervalSeconds"] = "1",
            // A shared test machine can be slow; this test is about the drain, not the deadline.
            ["EDGERUNTIME_Pipeline__DeadlineMs"] = "120000",
            ["EDGERUNTIME_Reject__DelayMs"] = "120000",
        });
        var lines = new List<string>();
        var output = new OutputTail();
        var firstResults = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            output.Add(e.Data);
            if (e.Data is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(e.Data);
                if (lines.Count(l => l.StartsWith('#')) >= 3)
                {
                    firstResults.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) => output.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        await firstResults.Task.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(0, RuntimeProcess.Interrupt(process.Id));
        await RuntimeProcess.WaitForExitAsync(process, TimeSpan.FromSeconds(60), output);

        Assert.Equal(0, process.ExitCode);
        string final;
        lock (lines)
        {
            final = Assert.Single(lines, l => l.StartsWith("[final]", StringComparison.Ordinal));
        }

        Assert.Contains("+ 0 in flight", final, StringComparison.Ordinal);
        Assert.Contains("0 deadline-missed", final, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectPrintsOneJsonLinePerImageAndWritesClassIndexMasks()
    {
        string masks = Path.Combine(_state, "masks");
        (int exitCode, string output, string errors) = await RunAsync(
            $"inspect --model \"{Path.Combine(RepositoryPaths.SampleModel, "manifest.json")}\" --save-masks \"{masks}\" \"{RepositoryPaths.Samples}\"",
            new Dictionary<string, string> { ["EDGERUNTIME_Pipeline__StateDirectory"] = _state });

        Assert.True(exitCode == 0, errors);
        IReadOnlyList<SampleTruth> truths = SampleTruth.Load(RepositoryPaths.Samples);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(truths.Count, lines.Length);
        int correct = 0;
        foreach (string line in lines)
        {
            using JsonDocument json = JsonDocument.Parse(line);
            JsonElement root = json.RootElement;
            string image = Path.GetFileName(root.GetProperty("image").GetString()!);
            SampleTruth truth = Assert.Single(truths, t => t.File == image);
            string verdict = root.GetProperty("verdict").GetString()!;
            Assert.Contains(verdict, new[] { "PASS", "FAIL" });
            correct += verdict == truth.Verdict ? 1 : 0;
            Assert.True(root.GetProperty("latencyMs").GetDouble() > 0);
            JsonElement defects = root.GetProperty("defects");
            Assert.Equal(verdict == "FAIL", defects.GetArrayLength() > 0);
            foreach (JsonElement defect in defects.EnumerateArray())
            {
                Assert.Contains(defect.GetProperty("class").GetString(), new[] { "linear", "blob" });
                Assert.Equal(4, defect.GetProperty("bbox").GetArrayLength());
                Assert.True(defect.GetProperty("area").GetInt32() > 0);
                Assert.InRange(defect.GetProperty("score").GetDouble(), 0.0, 1.0);
            }

            // The mask holds class indices, and its defect pixels are where the defects are.
            string maskPath = Path.Combine(masks, Path.GetFileNameWithoutExtension(image) + ".png");
            Assert.True(File.Exists(maskPath));
            byte[] mask = ReadGrayPng(maskPath, out int width, out int height);
            Assert.Equal((512, 512), (width, height));
            Assert.All(mask, value => Assert.InRange(value, 0, 2));
            if (verdict == "FAIL")
            {
                Assert.Contains(mask, value => value != 0);
            }
        }

        // Same bar as the in-process run: the default model judges every replay sample right.
        Assert.True(correct == truths.Count, $"only {correct} of {truths.Count} verdicts match the truth");
    }

    private static byte[] ReadGrayPng(string path, out int width, out int height)
    {
        using var frames = new Core.Frames.FramePool();
        using Core.Frames.Frame frame = Vision.Imaging.ImageFiles.Read(path, frames, Core.Frames.PixelFormat.Gray8);
        width = frame.Width;
        height = frame.Height;
        return frame.Pixels.ToArray();
    }

    [Fact]
    public async Task InspectRefusesAnUnreadableImageNamingItAndGoesOnWithTheRest()
    {
        string folder = Path.Combine(_state, "images");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(RepositoryPaths.Samples, "00000.png"), Path.Combine(folder, "a-good.png"));
        await File.WriteAllTextAsync(Path.Combine(folder, "b-broken.png"), "not a png");

        (int exitCode, string output, string errors) = await RunAsync($"inspect --model \"{RepositoryPaths.SampleModel}\" \"{folder}\"",
            new Dictionary<string, string> { ["EDGERUNTIME_Pipeline__StateDirectory"] = _state });

        Assert.Equal(3, exitCode);
        Assert.Contains("b-broken.png", errors, StringComparison.Ordinal);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
