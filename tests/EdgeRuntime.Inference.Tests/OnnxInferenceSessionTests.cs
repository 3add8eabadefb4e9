using System.Runtime.InteropServices;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Providers;
using EdgeRuntime.Inference.Sessions;
using EdgeRuntime.Inference.Tests.Support;

namespace EdgeRuntime.Inference.Tests;

public sealed class OnnxInferenceSessionTests : IDisposable
{
    private readonly ProviderHarness _harness = new();

    [Fact]
    public async Task RunInChunksMatchesAPlainInferenceSessionRunOnTheSameInput()
    {
        await LoadAsync(TestModels.Dynamic);
        float[] input = TestModels.RandomInput(6, seed: 11);
        using ModelLease lease = _harness.Provider.Acquire();
        using InferenceBuffers buffers = lease.Session.CreateBuffers(6);
        input.CopyTo(buffers.InputData);

        // MaxBatch is 4: the six tiles run as a chunk of 4 and a chunk of 2.
        lease.Session.Run(buffers, 6);

        PlainOnnx.AssertClose(PlainOnnx.Run(TestModels.Dynamic, input, 6), buffers.OutputData);
        Assert.Equal(new TensorGeometry(3, 64, 64), buffers.Input);
        Assert.Equal(new TensorGeometry(3, 64, 64), buffers.Output);
    }

    [Fact]
    public async Task FixedBatchModelRunsWholeBatchesWithThePaddingHiddenFromTheCaller()
    {
        await LoadAsync(TestModels.Batch4);
        float[] input = TestModels.RandomInput(6, seed: 12);
        using ModelLease lease = _harness.Provider.Acquire();
        using InferenceBuffers buffers = lease.Session.CreateBuffers(6);
        input.CopyTo(buffers.InputData);

        lease.Session.Run(buffers, 6);

        var ort = (OrtInferenceBuffers)buffers;
        Assert.Equal(new BatchProfile(4, IsFixed: true), ((OnnxInferenceSession)lease.Session).Batch);
        Assert.Equal(8, ort.PaddedCapacity);
        Assert.Equal(6 * TestModels.Classes * 64 * 64, buffers.OutputData.Length);
        float[] padded = new float[8 * TestModels.ItemElements];
        input.CopyTo(padded, 0);
        float[] first = PlainOnnx.Run(TestModels.Batch4, padded, 4);
        float[] second = PlainOnnx.Run(TestModels.Batch4, padded.AsSpan(4 * TestModels.ItemElements), 4);
        int item = TestModels.Classes * 64 * 64;
        PlainOnnx.AssertClose(first, buffers.OutputData[..(4 * item)]);
        PlainOnnx.AssertClose(second.AsSpan(0, 2 * item), buffers.OutputData[(4 * item)..]);
    }

    [Fact]
    public async Task ChunksAreMadeOnceAndTheSameMemoryIsReusedAcrossRuns()
    {
        await LoadAsync(TestModels.Dynamic);
        using ModelLease lease = _harness.Provider.Acquire();
        using InferenceBuffers buffers = lease.Session.CreateBuffers(6);
        var ort = (OrtInferenceBuffers)buffers;
        ref readonly float outputStart = ref MemoryMarshal.GetReference(buffers.OutputData);
        Assert.Equal(2, ort.ChunkCount);

        for (int run = 0; run < 5; run++)
        {
            TestModels.RandomInput(6, seed: run).CopyTo(buffers.InputData);
            lease.Session.Run(buffers, 6);
        }

        Assert.Equal(2, ort.ChunkCount);
        Assert.True(System.Runtime.CompilerServices.Unsafe.AreSame(in outputStart, in MemoryMarshal.GetReference(buffers.OutputData)));

        // A smaller frame in the same buffers: 3 = 2 + 1, made once on first use.
        lease.Session.Run(buffers, 3);
        lease.Session.Run(buffers, 3);
        Assert.Equal(4, ort.ChunkCount);
    }

    [Fact]
    public async Task BuffersOfAnotherSessionAreRefused()
    {
        await LoadAsync(TestModels.Dynamic);
        using ModelLease first = _harness.Provider.Acquire();
        using InferenceBuffers buffers = first.Session.CreateBuffers(2);
        await LoadAsync(TestModels.Retrained, "retrained");
        using ModelLease second = _harness.Provider.Acquire();

        Assert.NotSame(first.Session, second.Session);
        ArgumentException refused = Assert.Throws<ArgumentException>(() => second.Session.Run(buffers, 2));
        Assert.Contains("another session", refused.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => first.Session.Run(buffers, 3));
    }

    public void Dispose() => _harness.Dispose();

    private async Task LoadAsync(string model, string name = "model")
    {
        ModelLoadOutcome outcome = await _harness.LoadAsync(_harness.Package(name, model));
        Assert.True(outcome.Succeeded, outcome.ToString());
    }
}
