using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// ONNX Runtime used the plain way, as its documentation shows for preallocated buffers: pinned input and output
/// arrays wrapped once in <see cref="OrtValue"/>s, and <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue})"/>
/// per batch. The reference the runtime is measured against. Owns its tensors, not the session. Not thread-safe.
/// </summary>
internal sealed class BareRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly float[] _input;
    private readonly float[] _output;
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _outputs;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly RunOptions _runOptions = new();

    public BareRunner(ModelUnderTest model, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        _session = model.Bare;
        Batch = batch;
        _input = GC.AllocateArray<float>(batch * model.InputElements, pinned: true);
        _output = GC.AllocateArray<float>(batch * model.OutputElements, pinned: true);
        _inputNames = [model.Manifest.Input.Name];
        _outputNames = [model.Manifest.Output.Name];
        OrtValue? input = null;
        try
        {
            input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _input.AsMemory(), model.InputShape(batch));
            _outputs = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _output.AsMemory(), model.OutputShape(batch))];
            _inputs = [input];
            input = null;
        }
        finally
        {
            input?.Dispose();
        }
    }

    /// <summary>Items per run.</summary>
    public int Batch { get; }

    /// <summary>The input tensor's memory (fill it with real preprocessed frames before timing).</summary>
    public Memory<float> Input => _input;

    public ReadOnlyMemory<float> Output => _output;

    /// <summary>One <c>Run</c> over the whole batch.</summary>
    public void Run() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

    public void Dispose()
    {
        _outputs[0].Dispose();
        _inputs[0].Dispose();
        _runOptions.Dispose();
    }
}
