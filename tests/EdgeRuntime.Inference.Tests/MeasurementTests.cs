using System.Diagnostics;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace EdgeRuntime.Inference.Tests;

/// <summary>Allocation, time and memory figures of the real session on the test model; the figures are printed.</summary>
[Collection(SerialCollection.Name)]
public sealed class MeasurementTests(ITestOutputHelper output) : IDisposable
{
    private const int Tiles = 6;
    private readonly ProviderHarness _harness = new();

    [Fact]
    public async Task SteadyStateFramesAllocateNoManagedMemory()
    {
        await LoadAsync(_harness.Package("a", TestModels.Dynamic));
        const int Runs = 200;
        using ModelLease warm = _harness.Provider.Acquire();
        using InferenceBuffers buffers = warm.Session.CreateBuffers(Tiles);
        TestModels.RandomInput(Tiles, seed: 3).CopyTo(buffers.InputData);
        for (int i = 0; i < 20; i++)
        {
            warm.Session.Run(buffers, Tiles);
        }

        IModelProvider models = _harness.Provider;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Runs; i++)
        {
            // What the pipeline does per frame: lease, run, release.
            ModelLease lease = models.Acquire();
            lease.Session.Run(buffers, Tiles);
            lease.Dispose();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{Tiles} tiles of 3x64x64 per frame (chunks 4 + 2): {(double)allocated / Runs:F1} managed bytes per frame");
        Assert.True(allocated <= 256, $"{allocated} bytes allocated in {Runs} frames");
    }

    [Fact]
    public async Task RunTimeIsPrintedBesideBareOnnxRuntimeOnTheSameModelAndChunks()
    {
        await LoadAsync(_harness.Package("a", TestModels.Dynamic));
        using ModelLease lease = _harness.Provider.Acquire();
        using InferenceBuffers buffers = lease.Session.CreateBuffers(Tiles);
        using var bare = new BareRunner();
        float[] input = TestModels.RandomInput(Tiles, seed: 3);
        input.CopyTo(buffers.InputData);
        input.CopyTo(bare.Input, 0);

        // Interleaved blocks, so load from elsewhere on the machine hits both alike; medians of the blocks.
        const int Blocks = 15;
        const int RunsPerBlock = 20;
        var ours = new double[Blocks];
        var theirs = new double[Blocks];
        for (int block = -1; block < Blocks; block++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < RunsPerBlock; i++)
            {
                lease.Session.Run(buffers, Tiles);
            }

            double ourMs = clock.Elapsed.TotalMilliseconds / RunsPerBlock;
            clock.Restart();
            for (int i = 0; i < RunsPerBlock; i++)
            {
                bare.Run();
            }

            if (block >= 0)
            {
                ours[block] = ourMs;
                theirs[block] = clock.Elapsed.TotalMilliseconds / RunsPerBlock;
            }
        }

        Array.Sort(ours);
        Array.Sort(theirs);
        output.WriteLine($"median per frame of {Tiles} tiles, 1 intra-op thread: OnnxInferenceSession {ours[Blocks / 2]:F3} ms, bare InferenceSession.Run {theirs[Blocks / 2]:F3} ms");
        PlainOnnx.AssertClose(bare.Output, buffers.OutputData);
    }

    [Fact]
    public async Task TwentyConsecutiveSwapsKeepResidentMemoryGrowthUnderFivePercent()
    {
        string[] packages =
        [
            _harness.Package("a", TestModels.Dynamic),
            _harness.Package("b", TestModels.Retrained, new ManifestFields { Version = "1.1.0" }),
        ];
        for (int swap = 0; swap < 5; swap++)
        {
            await SwapAndRunAsync(packages[swap % 2]);
        }

        long before = ResidentBytes();
        for (int swap = 0; swap < 20; swap++)
        {
            await SwapAndRunAsync(packages[swap % 2]);
        }

        long after = ResidentBytes();
        double growth = (double)(after - before) / before;
        output.WriteLine($"resident memory across 20 swaps: {before / 1048576.0:F1} MiB -> {after / 1048576.0:F1} MiB ({growth:P2})");
        Assert.True(growth < 0.05, $"resident memory grew {growth:P2} over 20 swaps");

        async Task SwapAndRunAsync(string package)
        {
            await LoadAsync(package);
            using ModelLease lease = _harness.Provider.Acquire();
            using InferenceBuffers buffers = lease.Session.CreateBuffers(Tiles);
            lease.Session.Run(buffers, Tiles);
        }

        static long ResidentBytes()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            using var process = Process.GetCurrentProcess();
            return process.WorkingSet64;
        }
    }

    public void Dispose() => _harness.Dispose();

    private async Task LoadAsync(string package)
    {
        ModelLoadOutcome outcome = await _harness.LoadAsync(package);
        Assert.True(outcome.Succeeded, outcome.ToString());
    }

    /// <summary>ONNX Runtime used directly: same model, threads and chunks (4 + 2), OrtValues made once.</summary>
    private sealed class BareRunner : IDisposable
    {
        private const int Item = TestModels.ItemElements;
        private const int OutputItem = TestModels.Classes * TestModels.Size * TestModels.Size;
        private readonly SessionOptions _options = new() { IntraOpNumThreads = 1 };
        private readonly InferenceSession _session;
        private readonly RunOptions _runOptions = new();
        private readonly OrtValue[] _input4;
        private readonly OrtValue[] _input2;
        private readonly OrtValue[] _output4;
        private readonly OrtValue[] _output2;
        private readonly string[] _inputNames = ["input"];
        private readonly string[] _outputNames = ["logits"];

        public BareRunner()
        {
            _session = new InferenceSession(TestModels.Dynamic, _options);
            _input4 = [Tensor(Input, 0, 4, TestModels.Channels)];
            _input2 = [Tensor(Input, 4, 2, TestModels.Channels)];
            _output4 = [Tensor(Output, 0, 4, TestModels.Classes)];
            _output2 = [Tensor(Output, 4, 2, TestModels.Classes)];
        }

        public float[] Input { get; } = GC.AllocateArray<float>(Tiles * Item, pinned: true);

        public float[] Output { get; } = GC.AllocateArray<float>(Tiles * OutputItem, pinned: true);

        public void Run()
        {
            _session.Run(_runOptions, _inputNames, _input4, _outputNames, _output4);
            _session.Run(_runOptions, _inputNames, _input2, _outputNames, _output2);
        }

        public void Dispose()
        {
            foreach (OrtValue value in (OrtValue[])[.. _input4, .. _input2, .. _output4, .. _output2])
            {
                value.Dispose();
            }

            _runOptions.Dispose();
            _session.Dispose();
            _options.Dispose();
        }

        private static OrtValue Tensor(float[] data, int firstItem, int items, int channels)
        {
            int itemElements = channels * TestModels.Size * TestModels.Size;
            return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(firstItem * itemElements, items * itemElements),
                [items, channels, TestModels.Size, TestModels.Size]);
        }
    }
}
