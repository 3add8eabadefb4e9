namespace EdgeRuntime.Inference.Providers;

/// <summary>
/// The batch sizes a session runs with. A model with a fixed batch dimension always runs exactly that many items
/// (the last chunk is padded); a dynamic one runs chunks of at most <see cref="MaxChunk"/> items, which is also the
/// largest batch of the TensorRT optimisation profile, so no run ever leaves the profile and nothing is rebuilt.
/// </summary>
/// <param name="MaxChunk">Items in a full chunk: the model's fixed batch, or <c>Inference:MaxBatch</c>.</param>
/// <param name="IsFixed">True when the ONNX graph fixes the batch dimension to <see cref="MaxChunk"/>.</param>
public readonly record struct BatchProfile(int MaxChunk, bool IsFixed)
{
    /// <summary>The profile for a graph whose batch dimension is <paramref name="graphBatch"/> (null or below 1: dynamic).</summary>
    public static BatchProfile For(int? graphBatch, int maxBatch) =>
        graphBatch is int fixedBatch and > 0 ? new BatchProfile(fixedBatch, IsFixed: true) : new BatchProfile(maxBatch, IsFixed: false);
}
