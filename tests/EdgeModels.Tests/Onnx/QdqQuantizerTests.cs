using EdgeModels.Onnx;
using EdgeModels.Onnx.Conversion;
using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;
using EdgeModels.Onnx.Quantization;
using EdgeModels.Onnx.Verification;

namespace EdgeModels.Tests.Onnx;

public sealed class QdqQuantizerTests
{
    private const int Size = 32;

    private static readonly long[] s_shape = [1, 3, Size, Size];

    private static InMemoryCalibrationSamples Calibration(int count = 8) =>
        new(s_shape, OnnxTestData.SmoothImages(count, firstSeed: 100, channels: 3, size: Size));

    private static QuantizationResult Quantize(ModelProto model, QuantizationOptions options, CalibrationOptions? calibration = null) =>
        QdqQuantizer.Quantize(model, options, Calibration(), calibration ?? new CalibrationOptions(), null, CancellationToken.None);

    [Theory]
    [InlineData(ActivationQuantization.Int8Symmetric)]
    [InlineData(ActivationQuantization.UInt8Asymmetric)]
    public void QuantizedUNetRunsInOnnxRuntimeCloseToFloat32(ActivationQuantization activations)
    {
        ModelProto model = OnnxTestGraph.TinyUNet();
        float[] probe = OnnxTestData.SmoothImage(7, 3, Size);
        (float[] reference, _) = ModelComparison.Run(model, probe, s_shape);

        QuantizationResult result = Quantize(model, new QuantizationOptions { Activations = activations });
        OutputDifference difference = ModelComparison.Compare(model, result.Model, probe, s_shape);

        (float[] quantized, _) = ModelComparison.Run(result.Model, probe, s_shape);

        // 8-bit activations through eleven layers: errors of a few percent of the logits' spread. The random-weight
        // net has many near-ties between classes, so class agreement is judged where float32 is decisive.
        double spread = OnnxTestData.StandardDeviation(reference);
        Assert.True(difference.MeanAbsolute < 0.05 * spread, $"mean |diff| {difference.MeanAbsolute}");
        (double agreement, double decisiveShare) = OnnxTestData.DecisiveAgreement(reference, quantized, classes: 3, margin: 0.25 * spread);
        Assert.True(decisiveShare > 0.5, $"only {decisiveShare:P0} of the pixels have a decisive class");
        Assert.True(agreement > 0.995, $"class agreement where float32 is decisive: {agreement}");
        Assert.Contains(result.Model.Graph.Node, n => n.OpType == "QuantizeLinear");
        Assert.Contains(result.Model.Graph.Node, n => n.OpType == "DequantizeLinear");
        Assert.Equal(11, result.QuantizedByOp["Conv"]);
        Assert.Equal(2, result.QuantizedByOp["ConvTranspose"]);
    }

    [Fact]
    public void EveryConvReadsPerChannelInt8WeightsAndInt32Bias()
    {
        ModelProto model = OnnxTestGraph.TinyUNet();

        QuantizationResult result = Quantize(model, new QuantizationOptions());

        GraphIndex index = new(result.Model.Graph);
        foreach (NodeProto conv in result.Model.Graph.Node.Where(n => n.OpType is "Conv" or "ConvTranspose"))
        {
            NodeProto weightDq = index.Producer(conv.Input[1])!;
            Assert.Equal("DequantizeLinear", weightDq.OpType);
            TensorProto weight = index.Initializers[weightDq.Input[0]];
            TensorProto scale = index.Initializers[weightDq.Input[1]];
            int axis = conv.OpType == "Conv" ? 0 : 1;
            Assert.Equal(ElementTypes.Int8, weight.DataType);
            Assert.Equal(axis, Attributes.GetInt(weightDq, "axis", -1));
            Assert.Equal([weight.Dims[axis]], scale.Dims);
            Assert.True(TensorData.ReadFloats(scale).Distinct().Count() > 1, "per-channel scales differ between channels");
            Assert.Equal(127, TensorData.ReadInt8s(weight).Max(v => Math.Abs((int)v)));
            Assert.All(TensorData.ReadInt8s(index.Initializers[weightDq.Input[2]]), zp => Assert.Equal(0, zp));

            NodeProto biasDq = index.Producer(conv.Input[2])!;
            Assert.Equal("DequantizeLinear", biasDq.OpType);
            Assert.Equal(ElementTypes.Int32, index.Initializers[biasDq.Input[0]].DataType);

            NodeProto activationDq = index.Producer(conv.Input[0])!;
            Assert.Equal("DequantizeLinear", activationDq.OpType);
            Assert.Equal("QuantizeLinear", index.Producer(activationDq.Input[0])!.OpType);
        }

        Assert.DoesNotContain(result.Model.Graph.Initializer, t => t.DataType == ElementTypes.Float && t.Dims.Count > 1);
    }

    [Fact]
    public void Int8ActivationsUseZeroPointZeroAndUInt8ActivationsFoldRelu()
    {
        ModelProto model = OnnxTestGraph.TinyUNet();

        QuantizationResult symmetric = Quantize(model, new QuantizationOptions { Activations = ActivationQuantization.Int8Symmetric });
        QuantizationResult asymmetric = Quantize(model, new QuantizationOptions { Activations = ActivationQuantization.UInt8Asymmetric });

        GraphIndex index = new(symmetric.Model.Graph);
        foreach (NodeProto quantize in symmetric.Model.Graph.Node.Where(n => n.OpType == "QuantizeLinear"))
        {
            TensorProto zeroPoint = index.Initializers[quantize.Input[2]];
            Assert.Equal(ElementTypes.Int8, zeroPoint.DataType);
            Assert.Equal(0, TensorData.ReadInt8s(zeroPoint)[0]);
        }

        Assert.Equal(10, symmetric.Model.Graph.Node.Count(n => n.OpType == "Relu"));
        Assert.Equal(10, asymmetric.FoldedRelus);
        Assert.DoesNotContain(asymmetric.Model.Graph.Node, n => n.OpType == "Relu");
        GraphIndex asymmetricIndex = new(asymmetric.Model.Graph);
        Assert.All(
            asymmetric.Model.Graph.Node.Where(n => n.OpType == "QuantizeLinear"),
            q => Assert.Equal(ElementTypes.UInt8, asymmetricIndex.Initializers[q.Input[2]].DataType));
    }

    [Fact]
    public void ExcludedOpsAndNodesStayInFloat()
    {
        ModelProto model = OnnxTestGraph.TinyUNet();
        string lastConv = model.Graph.Node.Last(n => n.OpType == "Conv").Name;

        QuantizationResult result = Quantize(model, new QuantizationOptions { ExcludeOpTypes = ["ConvTranspose"], ExcludeNodes = [lastConv] });

        GraphIndex index = new(result.Model.Graph);
        foreach (NodeProto node in result.Model.Graph.Node.Where(n => n.OpType == "ConvTranspose" || n.Name == lastConv))
        {
            Assert.True(index.Initializers.TryGetValue(node.Input[1], out TensorProto? weight), $"{node.Name} reads a float initializer");
            Assert.Equal(ElementTypes.Float, weight.DataType);
        }

        Assert.Equal(10, result.QuantizedByOp["Conv"]);
        Assert.False(result.QuantizedByOp.ContainsKey("ConvTranspose"));
        Assert.Equal(3, result.Skipped.Count);
        ModelComparison.Run(result.Model, OnnxTestData.SmoothImage(3, 3, Size), s_shape);
    }

    [Fact]
    public void MaxPoolOutputSharesItsInputsQuantizationParameters()
    {
        ModelProto model = OnnxTestGraph.TinyUNet();

        QuantizationResult result = Quantize(model, new QuantizationOptions { Activations = ActivationQuantization.UInt8Asymmetric });

        GraphIndex index = new(result.Model.Graph);
        foreach (NodeProto pool in result.Model.Graph.Node.Where(n => n.OpType == "MaxPool"))
        {
            NodeProto inputDq = index.Producer(pool.Input[0])!;
            NodeProto outputQ = index.Consumers(pool.Output[0]).Single();
            Assert.Equal("QuantizeLinear", outputQ.OpType);
            Assert.Equal(inputDq.Input[1], outputQ.Input[1]);
            Assert.Equal(inputDq.Input[2], outputQ.Input[2]);
        }
    }

    [Fact]
    public void MatMulWeightsArePerOutputColumn()
    {
        OnnxTestGraph g = new();
        string x = g.Input("input", null, 3, 8, 8);
        string features = g.Flatten(g.Relu(g.Conv(x, 3, 4)));
        g.Rename(g.MatMul(features, 4 * 8 * 8, 5), "scores");
        g.Output("scores", null, 5);
        ModelProto model = g.Build(opset: 13);
        InMemoryCalibrationSamples samples = new([1, 3, 8, 8], OnnxTestData.SmoothImages(4, 1, 3, 8));

        QuantizationResult result = QdqQuantizer.Quantize(model, new QuantizationOptions(), samples, new CalibrationOptions(), null, CancellationToken.None);

        GraphIndex index = new(result.Model.Graph);
        NodeProto matMul = result.Model.Graph.Node.Single(n => n.OpType == "MatMul");
        NodeProto weightDq = index.Producer(matMul.Input[1])!;
        Assert.Equal(1, Attributes.GetInt(weightDq, "axis", -1));
        Assert.Equal([5L], index.Initializers[weightDq.Input[1]].Dims);
        OutputDifference difference = ModelComparison.Compare(model, result.Model, OnnxTestData.SmoothImage(50, 3, 8), [1, 3, 8, 8]);
        Assert.True(difference.MaxAbsolute < 0.1, $"max |diff| {difference.MaxAbsolute}");
    }

    [Fact]
    public void CalibratedRangeOfTheInputIsTheRangeOfTheSamples()
    {
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax(size: Size);
        InMemoryCalibrationSamples samples = Calibration(4);
        QuantizationPlan plan = QdqQuantizer.Plan(model, new QuantizationOptions());

        IReadOnlyDictionary<string, TensorRange> ranges = ActivationCalibrator.Collect(plan, samples, new CalibrationOptions(), null, CancellationToken.None);

        IEnumerable<float> all = samples.ReadSamples(CancellationToken.None).SelectMany(s => s);
        Assert.Equal(new TensorRange(all.Min(), all.Max()), ranges["input"]);
        Assert.Equal(plan.TensorsToCalibrate.Order(), ranges.Keys.Order());
    }

    [Fact]
    public void ReportedProgressCountsEverySample()
    {
        List<int> reports = [];
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax(size: Size);
        QuantizationPlan plan = QdqQuantizer.Plan(model, new QuantizationOptions());

        ActivationCalibrator.Collect(plan, Calibration(5), new CalibrationOptions { MaxSamples = 3 }, new SynchronousProgress(reports), CancellationToken.None);

        Assert.Equal([1, 2, 3], reports);
    }

    [Fact]
    public void PercentileCalibrationClipsARareOutlierThatMinMaxKeeps()
    {
        TensorStatistics minMax = new(histogram: false);
        TensorStatistics histogram = new(histogram: true);
        float[] values = [.. Enumerable.Range(0, 100_000).Select(i => i / 100_000f)];
        values[500] = 50f;

        minMax.Add(values);
        histogram.Add(values);

        Assert.Equal(50f, minMax.Range(null, symmetric: false).Max);
        TensorRange clipped = histogram.Range(99.9, symmetric: false);
        Assert.InRange(clipped.Max, 0.99f, 1.01f);
        Assert.Equal(0f, clipped.Min);
        TensorRange symmetricRange = histogram.Range(99.9, symmetric: true);
        Assert.InRange(symmetricRange.Max, 0.99f, 1.01f);
    }

    [Fact]
    public void ModelBelowOpset13IsRefusedWithTheReason()
    {
        OnnxTestGraph g = new();
        g.Rename(g.Conv(g.Input("input", 1, 3, 8, 8), 3, 4), "y");
        g.Output("y", 1, 4, 8, 8);

        OnnxModelException error = Assert.Throws<OnnxModelException>(() => QdqQuantizer.Plan(g.Build(opset: 11), new QuantizationOptions()));

        Assert.Contains("opset 11", error.Message, StringComparison.Ordinal);
        Assert.Contains("13", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Float16ModelHasNothingToQuantizeAndSaysWhy()
    {
        ModelProto half = Float16Converter.Convert(OnnxTestGraph.TinyUNet(), new Float16ConversionOptions()).Model;

        OnnxModelException error = Assert.Throws<OnnxModelException>(() => QdqQuantizer.Plan(half, new QuantizationOptions()));

        Assert.Contains("not a float32 activation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QuantizedModelIsNotQuantizedTwice()
    {
        ModelProto quantized = Quantize(OnnxTestGraph.ConvReluConvSoftmax(size: Size), new QuantizationOptions()).Model;

        Assert.Throws<OnnxModelException>(() => QdqQuantizer.Plan(quantized, new QuantizationOptions()));
    }

    [Fact]
    public void CalibrationSamplesOfTheWrongShapeAreRefused()
    {
        QuantizationPlan plan = QdqQuantizer.Plan(OnnxTestGraph.TinyUNet(), new QuantizationOptions());
        InMemoryCalibrationSamples wrong = new([1, 3, 16, 16], OnnxTestData.SmoothImages(1, 1, 3, 16));

        OnnxModelException error = Assert.Throws<OnnxModelException>(
            () => ActivationCalibrator.Collect(plan, wrong, new CalibrationOptions(), null, CancellationToken.None));

        Assert.Contains("dimension 2", error.Message, StringComparison.Ordinal);
    }

    private sealed class SynchronousProgress(List<int> reports) : IProgress<int>
    {
        public void Report(int value) => reports.Add(value);
    }
}
