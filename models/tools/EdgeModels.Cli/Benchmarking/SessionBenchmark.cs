using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Processing;

namespace EdgeModels.Cli.Benchmarking;

/// <summary>
/// Times <see cref="IInferenceSession.Run"/> of one leased session on one batch of a fixed input: the model alone,
/// without decoding, tiling or postprocessing. The input is filled once with a seeded pattern in the range a
/// normalised image takes, so every run and every model sees the same numbers.
/// </summary>
/// <remarks>
/// Holds a lease on the session and its buffers until disposed. Not thread-safe. The measuring loops allocate
/// nothing while the latency list has room (it is sized for counted runs).
/// </remarks>
internal sealed class SessionBenchmark : IDisposable
{
    private const int PatternSeed = 20_240_601;

    private readonly ModelLease _lease;
    private readonly InferenceBuffers _buffers;
    private readonly TimeProvider _time;
    private readonly List<double> _latenciesMs = [];

    /// <param name="models">Serves the model; it is leased for the benchmark's lifetime.</param>
    /// <param name="label">How reports name this model (its package folder).</param>
    /// <param name="batch">Items per Run.</param>
    /// <param name="time">The clock runs are timed with.</param>
    public SessionBenchmark(IModelProvider models, string label, int batch, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        _time = time;
        Label = label;
        Batch = batch;
        _lease = models.Acquire();
        InferenceBuffers? buffers = null;
        bool created = false;
        try
        {
            _buffers = _lease.Session.Reuse(ref buffers, batch);
            FillPattern(_buffers.InputData[..(batch * _buffers.Input.ElementCount)]);
            created = true;
        }
        finally
        {
            if (!created)
            {
                buffers?.Dispose();
                _lease.Dispose();
            }
        }
    }

    public string Label { get; }

    public ModelIdentity Model => _lease.Session.Identity;

    public int Batch { get; }

    /// <summary>Latencies of the measured runs so far, in milliseconds, in run order.</summary>
    public IReadOnlyList<double> LatenciesMs => _latenciesMs;

    /// <summary>Sum of the measured runs' latencies, in seconds: the time throughput is computed over.</summary>
    public double RunSeconds { get; private set; }

    /// <summary>Runs <paramref name="runs"/> times without recording.</summary>
    public void Warmup(int runs, CancellationToken cancellationToken)
    {
        for (int i = 0; i < runs; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _lease.Session.Run(_buffers, Batch);
        }
    }

    /// <summary>Runs and records <paramref name="runs"/> times.</summary>
    public void Measure(int runs, CancellationToken cancellationToken)
    {
        _latenciesMs.EnsureCapacity(_latenciesMs.Count + runs);
        for (int i = 0; i < runs; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RunOnce();
        }
    }

    /// <summary>Runs and records until <paramref name="duration"/> has passed (at least once).</summary>
    public void MeasureFor(TimeSpan duration, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            RunOnce();
        }
        while (_time.GetElapsedTime(started) < duration);
    }

    public void Dispose()
    {
        _buffers.Dispose();
        _lease.Dispose();
    }

    private void RunOnce()
    {
        long started = _time.GetTimestamp();
        _lease.Session.Run(_buffers, Batch);
        TimeSpan elapsed = _time.GetElapsedTime(started);
        _latenciesMs.Add(elapsed.TotalMilliseconds);
        RunSeconds += elapsed.TotalSeconds;
    }

    private static void FillPattern(Span<float> input)
    {
        // Uniform in [-2, 2]: mean-0.5/std-0.25 normalisation maps pixel values 0..255 there.
        var random = new Random(PatternSeed);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (random.NextSingle() * 4f) - 2f;
        }
    }
}
