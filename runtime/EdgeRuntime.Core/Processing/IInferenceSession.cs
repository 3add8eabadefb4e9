using EdgeRuntime.Core.Inspection;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.Core.Processing;

/// <summary>
/// A loaded and warmed-up model on one execution provider. <see cref="Run"/> may be called from several
/// threads at once with different buffers. Lifetime is managed by the <see cref="IModelProvider"/>
/// that created it; callers hold a <see cref="ModelLease"/> while they use it.
/// </summary>
public interface IInferenceSession
{
    /// <summary>Which model this is and where it runs.</summary>
    ModelIdentity Identity { get; }

    /// <summary>The package manifest the session was created from.</summary>
    ModelManifest Manifest { get; }

    /// <summary>Creates buffers for up to <paramref name="batchCapacity"/> items; the caller owns and disposes them.</summary>
    InferenceBuffers CreateBuffers(int batchCapacity);

    /// <summary>Runs the model on the first <paramref name="itemCount"/> items of <paramref name="buffers"/>, filling their output.</summary>
    void Run(InferenceBuffers buffers, int itemCount);
}

/// <summary>
/// The active model, which can be replaced while frames are in flight (hot swap). A lease keeps the
/// session it was given alive until it is disposed, so a frame finishes on the model it started on.
/// Thread-safe.
/// </summary>
public interface IModelProvider
{
    /// <summary>Leases the active session. Throws <see cref="InvalidOperationException"/> when no model is ready.</summary>
    ModelLease Acquire();

    /// <summary>Releases a lease taken by <see cref="Acquire"/>; called by <see cref="ModelLease.Dispose"/>.</summary>
    void Release(IInferenceSession session);
}

/// <summary>A counted reference to a session; dispose exactly once.</summary>
public readonly struct ModelLease(IModelProvider provider, IInferenceSession session) : IDisposable
{
    /// <summary>The leased session.</summary>
    public IInferenceSession Session { get; } = session;

    /// <inheritdoc />
    public void Dispose() => provider?.Release(Session);
}
