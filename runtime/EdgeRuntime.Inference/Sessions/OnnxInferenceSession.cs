using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Inference.Providers;
using EdgeRuntime.ModelPackages.Manifest;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Inference.Sessions;

/// <summary>
/// A model loaded into ONNX Runtime on the provider the chain chose. <see cref="Run"/> feeds the buffers' pinned
/// arrays through I/O bindings made once per buffer, in chunks of the batch profile, and allocates nothing in steady
/// state. <see cref="Run"/> may be called from several threads at once with different buffers.
/// </summary>
/// <remarks>
/// Owned by the <see cref="Models.OnnxModelProvider"/> that loaded it, which disposes it once the last lease is released.
/// Disposing frees the native session and the native parts of every buffer still alive; those buffers must not run
/// again (their owners dispose them when they see the new model).
/// </remarks>
public sealed class OnnxInferenceSession : IInferenceSession, IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly TensorLayout _layout;
    private readonly TensorGeometry _input;
    private readonly TensorGeometry _output;
    private readonly List<OrtInferenceBuffers> _buffers = [];
    private readonly Lock _buffersGate = new();

    // The provider's own reference while the session is active, plus one per lease; at zero the session is disposed.
    private int _references = 1;
    private int _disposed;

    internal OnnxInferenceSession(InferenceSession session, ModelManifest manifest, ProviderSelection providers, BatchProfile batch)
    {
        _session = session;
        Manifest = manifest;
        Providers = providers;
        Batch = batch;
        Identity = new ModelIdentity(manifest.Id, manifest.Version, ProviderPlanner.PrecisionName(manifest.Model.Precision),
            providers.Active.DisplayName(), manifest.Model.Sha256);
        _inputName = manifest.Input.Name;
        _outputName = manifest.Output.Name;
        _layout = manifest.Input.Layout;
        _input = new TensorGeometry(manifest.Input.Channels, manifest.Input.Height, manifest.Input.Width);
        _output = new TensorGeometry(manifest.ClassCount, manifest.Input.Height, manifest.Input.Width);
    }

    /// <inheritdoc />
    public ModelIdentity Identity { get; }

    /// <inheritdoc />
    public ModelManifest Manifest { get; }

    /// <summary>Which provider runs the model and why earlier ones were skipped.</summary>
    public ProviderSelection Providers { get; }

    /// <summary>The verified package the session was created from (its golden samples are judged on it); null for a bare session.</summary>
    public ModelPackages.ModelPackage? Package { get; internal init; }

    /// <summary>The batch sizes runs use.</summary>
    public BatchProfile Batch { get; }

    /// <summary>True once the native session is freed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Buffers created by this session and not yet disposed.</summary>
    internal int LiveBufferCount
    {
        get
        {
            lock (_buffersGate)
            {
                return _buffers.Count;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Items are laid out in the manifest's input layout (NCHW or NHWC) in <see cref="InferenceBuffers.InputData"/>;
    /// the output is [N, K, H, W]. Allocates the pinned arrays and the tensors of a full-capacity run.
    /// </remarks>
    public InferenceBuffers CreateBuffers(int batchCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchCapacity);
        lock (_buffersGate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            var buffers = new OrtInferenceBuffers(this, _input, _output, batchCapacity, Batch);
            _buffers.Add(buffers);
            return buffers;
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="buffers"/> were created by another session.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime failed the run.</exception>
    public void Run(InferenceBuffers buffers, int itemCount)
    {
        if (buffers is not OrtInferenceBuffers ort || !ReferenceEquals(ort.Owner, this))
        {
            throw new ArgumentException("the buffers were created by another session; create them with this session's CreateBuffers", nameof(buffers));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(itemCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(itemCount, ort.BatchCapacity);
        RunOptions runOptions = ort.RunOptions;
        for (int offset = 0; offset < itemCount;)
        {
            int size = ort.NextChunkSize(itemCount - offset);
            _session.RunWithBinding(runOptions, ort.GetChunk(offset, size));
            offset += size;
        }
    }

    /// <summary>Frees the native session and the native parts of buffers still alive. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_buffersGate)
        {
            foreach (OrtInferenceBuffers buffers in _buffers)
            {
                buffers.ReleaseNative();
            }

            _buffers.Clear();
        }

        _session.Dispose();
    }

    /// <summary>Takes a lease unless the session has been retired and drained. Allocation-free.</summary>
    internal bool TryAddReference()
    {
        int current = Volatile.Read(ref _references);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Drops a lease (or the provider's own reference); true when it was the last, and the caller must dispose.</summary>
    internal bool ReleaseReference()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left < 0)
        {
            throw new InvalidOperationException($"model {Identity.Id} {Identity.Version} was released more often than it was leased");
        }

        return left == 0;
    }

    internal long[] InputShape(int batch) => _layout == TensorLayout.Nhwc
        ? [batch, _input.Height, _input.Width, _input.Channels]
        : [batch, _input.Channels, _input.Height, _input.Width];

    internal OrtIoBinding CreateBinding(OrtValue input, OrtValue output)
    {
        OrtIoBinding binding = _session.CreateIoBinding();
        bool bound = false;
        try
        {
            binding.BindInput(_inputName, input);
            binding.BindOutput(_outputName, output);
            bound = true;
            return binding;
        }
        finally
        {
            if (!bound)
            {
                binding.Dispose();
            }
        }
    }

    internal void Forget(OrtInferenceBuffers buffers)
    {
        lock (_buffersGate)
        {
            _buffers.Remove(buffers);
        }
    }
}
