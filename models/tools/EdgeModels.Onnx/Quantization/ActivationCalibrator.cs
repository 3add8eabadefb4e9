using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;
using Microsoft.ML.OnnxRuntime;

namespace EdgeModels.Onnx.Quantization;

/// <summary>
/// Measures the ranges of the activation tensors a <see cref="QuantizationPlan"/> will quantize, by running the
/// float model in ONNX Runtime (CPU) over calibration samples with those tensors exposed as extra graph outputs.
/// </summary>
/// <remarks>Stateless; each call owns the session it creates and disposes it before returning.</remarks>
public static class ActivationCalibrator
{
    /// <summary>Runs calibration and returns a range for every tensor in <see cref="QuantizationPlan.TensorsToCalibrate"/>.</summary>
    /// <param name="plan">What will be quantized; its source model is run, not modified.</param>
    /// <param name="source">Preprocessed samples for the model's single input.</param>
    /// <param name="options">Range method and sample limit.</param>
    /// <param name="progress">Receives the number of samples processed after each one; may be null.</param>
    /// <param name="cancellationToken">Checked between samples.</param>
    /// <exception cref="OnnxModelException">
    /// The model has more than one fed input, a sample's shape or length does not match it, or the source is empty.
    /// </exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime cannot load or run the model.</exception>
    public static IReadOnlyDictionary<string, TensorRange> Collect(
        QuantizationPlan plan,
        ICalibrationSampleSource source,
        CalibrationOptions options,
        IProgress<int>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        ModelProto model = plan.SourceModel;
        GraphIndex index = new(model.Graph);
        List<ValueInfoProto> fedInputs = [.. index.FedInputs];
        if (fedInputs.Count != 1)
        {
            throw new OnnxModelException(
                $"calibration feeds one input, but the model has {fedInputs.Count} ({string.Join(", ", fedInputs.Select(i => i.Name))}).");
        }

        ValueInfoProto input = fedInputs[0];
        long[] shape = [.. source.Shape];
        CheckShape(input, shape);
        long elementCount = TensorData.ElementCount(shape);

        bool histogram = options.Method == CalibrationMethod.Percentile;
        Dictionary<string, TensorStatistics> statistics = new(StringComparer.Ordinal);
        foreach (string tensor in plan.TensorsToCalibrate)
        {
            statistics[tensor] = new TensorStatistics(histogram);
        }

        ModelProto augmented = model.Clone();
        List<string> outputNames = [];
        foreach (string tensor in plan.TensorsToCalibrate)
        {
            if (tensor == input.Name)
            {
                continue;
            }

            outputNames.Add(tensor);
            if (!index.IsGraphOutput(tensor))
            {
                augmented.Graph.Output.Add(new ValueInfoProto
                {
                    Name = tensor,
                    Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = ElementTypes.Float } },
                });
            }
        }

        // Basic optimizations only: extended fusions would not change the requested outputs, just cost load time.
        using SessionOptions sessionOptions = new() { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using InferenceSession session = new(OnnxModelFile.ToBytes(augmented), sessionOptions);
        using RunOptions runOptions = new();
        string[] inputNames = [input.Name];

        int processed = 0;
        foreach (float[] sample in source.ReadSamples(cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (sample.Length != elementCount)
            {
                throw new OnnxModelException(
                    $"calibration sample {processed + 1} has {sample.Length} values, but shape [{string.Join(",", shape)}] needs {elementCount}.");
            }

            if (statistics.TryGetValue(input.Name, out TensorStatistics? inputStatistics))
            {
                inputStatistics.Add(sample);
            }

            using OrtValue inputValue = OrtValue.CreateTensorValueFromMemory(sample, shape);
            using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, inputNames, [inputValue], outputNames);
            for (int i = 0; i < outputNames.Count; i++)
            {
                statistics[outputNames[i]].Add(outputs[i].GetTensorDataAsSpan<float>());
            }

            processed++;
            progress?.Report(processed);
            if (processed == options.MaxSamples)
            {
                break;
            }
        }

        if (processed == 0)
        {
            throw new OnnxModelException("the calibration source yielded no samples.");
        }

        double? percentile = histogram ? options.Percentile : null;
        bool symmetric = plan.Options.Activations == ActivationQuantization.Int8Symmetric;
        return statistics.ToDictionary(pair => pair.Key, pair => pair.Value.Range(percentile, symmetric), StringComparer.Ordinal);
    }

    private static void CheckShape(ValueInfoProto input, long[] shape)
    {
        if (input.Type?.TensorType is not { } tensor || tensor.ElemType != ElementTypes.Float)
        {
            throw new OnnxModelException($"model input '{input.Name}' is not a float32 tensor; calibration feeds float32 samples.");
        }

        if (tensor.Shape is not { } declared)
        {
            return;
        }

        if (declared.Dim.Count != shape.Length)
        {
            throw new OnnxModelException(
                $"calibration samples have shape [{string.Join(",", shape)}], but model input '{input.Name}' has rank {declared.Dim.Count}.");
        }

        for (int i = 0; i < shape.Length; i++)
        {
            if (declared.Dim[i].HasDimValue && declared.Dim[i].DimValue > 0 && declared.Dim[i].DimValue != shape[i])
            {
                throw new OnnxModelException(
                    $"calibration samples have shape [{string.Join(",", shape)}], but dimension {i} of model input '{input.Name}' is {declared.Dim[i].DimValue}.");
            }
        }
    }
}
