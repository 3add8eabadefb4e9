namespace EdgeRuntime.Core.Processing;

/// <summary>Shape of one batch item of a tensor in NCHW order (N excluded).</summary>
/// <param name="Channels">Channels (input colour channels, or output classes).</param>
/// <param name="Height">Height in elements.</param>
/// <param name="Width">Width in elements.</param>
public readonly record struct TensorGeometry(int Channels, int Height, int Width)
{
    /// <summary>Elements in one batch item.</summary>
    public int ElementCount => Channels * Height * Width;
}

/// <summary>
/// Input and output tensors for up to <see cref="BatchCapacity"/> items, created by one
/// <see cref="IInferenceSession"/> and usable only with it. The memory is allocated once and pinned so
/// that native tensors can wrap it without copies. Owned by one pipeline job at a time; the owner disposes
/// it (which frees the native tensors). Not thread-safe.
/// </summary>
public abstract class InferenceBuffers : IDisposable
{
    /// <param name="owner">The session that created the buffers.</param>
    /// <param name="input">Per-item input shape.</param>
    /// <param name="output">Per-item output shape.</param>
    /// <param name="batchCapacity">How many items the buffers hold.</param>
    protected InferenceBuffers(IInferenceSession owner, TensorGeometry input, TensorGeometry output, int batchCapacity)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchCapacity);
        Owner = owner;
        Input = input;
        Output = output;
        BatchCapacity = batchCapacity;
    }

    /// <summary>The session the buffers belong to.</summary>
    public IInferenceSession Owner { get; }

    /// <summary>Per-item input shape.</summary>
    public TensorGeometry Input { get; }

    /// <summary>Per-item output shape.</summary>
    public TensorGeometry Output { get; }

    /// <summary>Items the buffers hold.</summary>
    public int BatchCapacity { get; }

    /// <summary>The whole input tensor, <c>BatchCapacity * Input.ElementCount</c> floats, NCHW.</summary>
    public abstract Span<float> InputData { get; }

    /// <summary>The whole output tensor, <c>BatchCapacity * Output.ElementCount</c> floats, NCHW.</summary>
    public abstract ReadOnlySpan<float> OutputData { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases native tensors and pinned memory.</summary>
    protected abstract void Dispose(bool disposing);
}

/// <summary>Buffer reuse shared by the pipeline and offline inspection.</summary>
public static class InferenceBuffersReuse
{
    /// <summary>
    /// Returns <paramref name="buffers"/> when they belong to <paramref name="session"/> and hold
    /// <paramref name="itemCount"/> items; otherwise disposes them and stores new ones. Tensors are thus
    /// allocated only for the first frame, a new model, or a larger frame.
    /// </summary>
    public static InferenceBuffers Reuse(this IInferenceSession session, ref InferenceBuffers? buffers, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (buffers is not null && ReferenceEquals(buffers.Owner, session) && buffers.BatchCapacity >= itemCount)
        {
            return buffers;
        }

        buffers?.Dispose();
        buffers = null;
        buffers = session.CreateBuffers(itemCount);
        return buffers;
    }
}
