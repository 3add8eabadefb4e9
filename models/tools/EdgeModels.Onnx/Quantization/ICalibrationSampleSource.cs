namespace EdgeModels.Onnx.Quantization;

/// <summary>
/// Preprocessed inputs for calibration: tensors exactly as the model's (single) input expects them, e.g. an
/// image resized, normalized and laid out as [1, 3, H, W] float32.
/// </summary>
/// <remarks>
/// Enumerated once per calibration, on one thread. Each yielded array belongs to the source: the calibrator
/// reads it before asking for the next one, so a source may reuse a single buffer.
/// </remarks>
public interface ICalibrationSampleSource
{
    /// <summary>Shape of every sample; its element count is the length of every yielded array.</summary>
    IReadOnlyList<long> Shape { get; }

    /// <summary>How many samples <see cref="ReadSamples"/> will yield, or null when not known up front.</summary>
    int? Count { get; }

    /// <summary>Yields the samples; throws on a sample it cannot produce, naming it.</summary>
    IEnumerable<float[]> ReadSamples(CancellationToken cancellationToken);
}

/// <summary>Samples already in memory. Thread-safe to enumerate; the arrays are shared, not copied.</summary>
public sealed class InMemoryCalibrationSamples : ICalibrationSampleSource
{
    private readonly IReadOnlyList<float[]> _samples;

    public InMemoryCalibrationSamples(IReadOnlyList<long> shape, IReadOnlyList<float[]> samples)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(samples);
        Shape = shape;
        _samples = samples;
    }

    public IReadOnlyList<long> Shape { get; }

    public int? Count => _samples.Count;

    public IEnumerable<float[]> ReadSamples(CancellationToken cancellationToken)
    {
        foreach (float[] sample in _samples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return sample;
        }
    }
}
