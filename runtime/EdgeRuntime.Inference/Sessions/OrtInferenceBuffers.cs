using EdgeRuntime.Core.Processing;
using EdgeRuntime.Inference.Providers;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Inference.Sessions;

/// <summary>
/// Pinned input and output arrays for up to <see cref="InferenceBuffers.BatchCapacity"/> items, with the ONNX Runtime
/// tensors and I/O bindings over them made once per chunk (offset and size), so a run passes pointers ONNX Runtime
/// already holds and allocates nothing. Created by <see cref="OnnxInferenceSession.CreateBuffers"/>; owned by one
/// pipeline job at a time, which disposes it. Not thread-safe, except that the session may release the native parts
/// from another thread once its last lease ends.
/// </summary>
internal sealed class OrtInferenceBuffers : InferenceBuffers
{
    private readonly OnnxInferenceSession _session;
    private readonly float[] _input;
    private readonly float[] _output;
    private readonly int[] _chunkSizes;
    private readonly Dictionary<long, Chunk> _chunks = [];
    private readonly Lock _gate = new();
    private RunOptions? _runOptions;
    private bool _released;
    private bool _disposed;

    public OrtInferenceBuffers(OnnxInferenceSession session, TensorGeometry input, TensorGeometry output, int batchCapacity, BatchProfile batch)
        : base(session, input, output, batchCapacity)
    {
        _session = session;
        Batch = batch;

        // A fixed-batch model always runs whole batches, so the arrays hold the padding of the last one.
        PaddedCapacity = batch.IsFixed ? (batchCapacity + batch.MaxChunk - 1) / batch.MaxChunk * batch.MaxChunk : batchCapacity;
        _chunkSizes = ChunkSizes(batch, batchCapacity);
        _input = GC.AllocateArray<float>(checked(PaddedCapacity * input.ElementCount), pinned: true);
        _output = GC.AllocateArray<float>(checked(PaddedCapacity * output.ElementCount), pinned: true);
        _runOptions = new RunOptions();
        bool created = false;
        try
        {
            // The chunks of a full-capacity run, the pipeline's steady state, are made here; other item counts on first use.
            for (int offset = 0; offset < batchCapacity;)
            {
                int size = NextChunkSize(batchCapacity - offset);
                GetChunk(offset, size);
                offset += size;
            }

            created = true;
        }
        finally
        {
            if (!created)
            {
                ReleaseNative();
            }
        }
    }

    /// <summary>The batch sizes this buffer runs with.</summary>
    public BatchProfile Batch { get; }

    /// <summary>Items the arrays hold, including a fixed-batch model's padding.</summary>
    public int PaddedCapacity { get; }

    /// <summary>Chunks (ONNX Runtime tensors and bindings) created so far.</summary>
    public int ChunkCount => _chunks.Count;

    public override Span<float> InputData
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _input.AsSpan(0, BatchCapacity * Input.ElementCount);
        }
    }

    public override ReadOnlySpan<float> OutputData
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _output.AsSpan(0, BatchCapacity * Output.ElementCount);
        }
    }

    /// <summary>The run options every chunk of this buffer runs with.</summary>
    public RunOptions RunOptions => _runOptions ?? throw new ObjectDisposedException(nameof(OrtInferenceBuffers), "the buffers or their session were disposed");

    /// <summary>
    /// Items the next run covers when <paramref name="remaining"/> items are left: a whole fixed batch (padded), a full
    /// chunk, or the largest prepared chunk size that fits, so a run never computes padding a dynamic model does not need.
    /// </summary>
    public int NextChunkSize(int remaining)
    {
        if (Batch.IsFixed || remaining >= Batch.MaxChunk)
        {
            return Batch.MaxChunk;
        }

        foreach (int size in _chunkSizes)
        {
            if (size <= remaining)
            {
                return size;
            }
        }

        return 1;
    }

    /// <summary>The binding for items [offset, offset + size); made on first use.</summary>
    public OrtIoBinding GetChunk(int offset, int size)
    {
        long key = ((long)offset << 32) | (uint)size;
        if (_chunks.TryGetValue(key, out Chunk? chunk))
        {
            return chunk.Binding;
        }

        ObjectDisposedException.ThrowIf(_released, this);
        chunk = CreateChunk(offset, size);
        _chunks.Add(key, chunk);
        return chunk.Binding;
    }

    /// <summary>
    /// Frees the ONNX Runtime objects (bindings refer to the session). Called by <see cref="Dispose(bool)"/> and by
    /// the session when it is disposed first; idempotent.
    /// </summary>
    public void ReleaseNative()
    {
        lock (_gate)
        {
            if (_released)
            {
                return;
            }

            _released = true;
            foreach (Chunk chunk in _chunks.Values)
            {
                chunk.Dispose();
            }

            _chunks.Clear();
            _runOptions?.Dispose();
            _runOptions = null;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReleaseNative();
        _session.Forget(this);
    }

    /// <summary>
    /// Chunk sizes of a dynamic-batch model for this capacity: full chunks, the remainder of a full-capacity run (so
    /// the steady state runs ceil(capacity / MaxChunk) times without padding), and powers of two for other counts.
    /// Largest first.
    /// </summary>
    private static int[] ChunkSizes(BatchProfile batch, int capacity)
    {
        var sizes = new SortedSet<int>(Comparer<int>.Create((a, b) => b.CompareTo(a))) { batch.MaxChunk };
        if (!batch.IsFixed)
        {
            if (capacity % batch.MaxChunk != 0)
            {
                sizes.Add(capacity % batch.MaxChunk);
            }

            for (int size = 1; size < batch.MaxChunk; size *= 2)
            {
                sizes.Add(size);
            }
        }

        return [.. sizes];
    }

    private Chunk CreateChunk(int offset, int size)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + size, PaddedCapacity);
        int inputElements = Input.ElementCount;
        int outputElements = Output.ElementCount;
        OrtValue? input = null;
        OrtValue? output = null;
        OrtIoBinding? binding = null;
        bool created = false;
        try
        {
            input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _input.AsMemory(offset * inputElements, size * inputElements),
                _session.InputShape(size));
            output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(offset * outputElements, size * outputElements),
                [size, Output.Channels, Output.Height, Output.Width]);
            binding = _session.CreateBinding(input, output);
            created = true;
            return new Chunk(input, output, binding);
        }
        finally
        {
            if (!created)
            {
                binding?.Dispose();
                output?.Dispose();
                input?.Dispose();
            }
        }
    }

    private sealed class Chunk(OrtValue input, OrtValue output, OrtIoBinding binding) : IDisposable
    {
        public OrtIoBinding Binding { get; } = binding;

        public void Dispose()
        {
            Binding.Dispose();
            output.Dispose();
            input.Dispose();
        }
    }
}
