namespace EdgeRuntime.ModelPackages.Graph;

/// <summary>One input or output tensor of a model graph, as an inference engine reports it.</summary>
/// <param name="Name">Tensor name in the graph.</param>
/// <param name="ElementType">Element type spelled like the manifest's dtype: float32, float16, float64, int8, uint8, int64, ...</param>
/// <param name="Dimensions">One entry per axis: the fixed size, or null for a symbolic (dynamic) axis.</param>
public sealed record GraphTensor(string Name, string ElementType, IReadOnlyList<long?> Dimensions)
{
    /// <summary>The element type of every tensor the runtime feeds and reads.</summary>
    public const string Float32 = "float32";
}

/// <summary>
/// The interface of a model graph (its inputs and outputs), independent of the engine that read it, so that the
/// manifest can be checked against any engine's view of the model.
/// </summary>
public sealed record ModelGraphDescription(IReadOnlyList<GraphTensor> Inputs, IReadOnlyList<GraphTensor> Outputs);
