namespace EdgeRuntime.Core.Processing;

/// <summary>
/// The class names of a session's manifest, built once per model rather than per frame (they change only
/// when the model does). Not thread-safe: one per consuming loop.
/// </summary>
public sealed class ClassNameCache
{
    private IInferenceSession? _session;
    private string[] _names = [];

    /// <summary>Names by class index for <paramref name="session"/>.</summary>
    public IReadOnlyList<string> Get(IInferenceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!ReferenceEquals(session, _session))
        {
            _names = session.Manifest.Classes.Select(c => c.Name).ToArray();
            _session = session;
        }

        return _names;
    }
}
