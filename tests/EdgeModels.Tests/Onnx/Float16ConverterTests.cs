using EdgeModels.Onnx;
using EdgeModels.Onnx.Conversion;
using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;
using EdgeModels.Onnx.Verification;

namespace EdgeModels.Tests.Onnx;

public sealed class Float16ConverterTests
{
    [Fact]
    public void ConvertedUNetRunsInOnnxRuntimeCloseToFloat32()
    {
        ModelProto model = OnnxTestGraph.TinyUNet();
        float[] input = OnnxTestData.SmoothImage(5, 3, 32);
        (float[] reference, _) = ModelComparison.Run(model, input, [1, 3, 32, 32]);

        Float16ConversionResult result = Float16Converter.Convert(model, new Float16ConversionOptions());
        OutputDifference difference = ModelComparison.Compare(model, result.Model, input, [1, 3, 32, 32]);

        // float16 keeps 11 significant bits: errors of a few 1e-3 of the logits' spread, almost no flipped classes.
        Assert.True(difference.MeanAbsolute < 2e-3 * OnnxTestData.StandardDeviation(reference), $"mean |diff| {difference.MeanAbsolute}");
        Assert.True(difference.ArgmaxAgreement > 0.995, $"argmax agreement {difference.ArgmaxAgreement}");
        Assert.All(result.Model.Graph.Initializer, tensor => Assert.Equal(ElementTypes.Float16, tensor.DataType));
        Assert.Equal(ElementTypes.Float, result.Model.Graph.Input[0].Type.TensorType.ElemType);
        Assert.Equal(ElementTypes.Float, result.Model.Graph.Output[0].Type.TensorType.ElemType);
        Assert.Equal(2, result.CastsInserted);
    }

    [Fact]
    public void WeightsTakeHalfTheBytes()
    {
        ModelProto model = OnnxTestGraph.TinyUNet();

        ModelProto converted = Float16Converter.Convert(model, new Float16ConversionOptions()).Model;

        long before = model.Graph.Initializer.Sum(t => (long)t.RawData.Length);
        long after = converted.Graph.Initializer.Sum(t => (long)t.RawData.Length);
        Assert.Equal(before, 2 * after);
    }

    [Fact]
    public void SoftmaxStaysFloat32BehindCasts()
    {
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax(size: 16);
        float[] input = OnnxTestData.SmoothImage(9, 3, 16);

        Float16ConversionResult result = Float16Converter.Convert(model, new Float16ConversionOptions());

        GraphIndex index = new(result.Model.Graph);
        NodeProto softmax = Assert.Single(result.Model.Graph.Node, n => n.OpType == "Softmax");
        NodeProto cast = index.Producer(softmax.Input[0])!;
        Assert.Equal("Cast", cast.OpType);
        Assert.Equal(ElementTypes.Float, Attributes.GetInt(cast, "to", 0));
        Assert.Equal("probabilities", softmax.Output[0]);
        Assert.Equal(1, result.KeptFloat32["Softmax"]);
        OutputDifference difference = ModelComparison.Compare(model, result.Model, input, [1, 3, 16, 16]);
        Assert.True(difference.MaxAbsolute < 2e-3, $"max |diff| {difference.MaxAbsolute}");
    }

    [Fact]
    public void AnEmptyKeepListConvertsSoftmaxAndCastsItsOutputBack()
    {
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax(size: 16);

        Float16ConversionResult result = Float16Converter.Convert(model, new Float16ConversionOptions { KeepFloat32Ops = [] });

        GraphIndex index = new(result.Model.Graph);
        NodeProto softmax = Assert.Single(result.Model.Graph.Node, n => n.OpType == "Softmax");
        Assert.Equal("Conv", index.Producer(softmax.Input[0])!.OpType);
        NodeProto outputCast = index.Producer("probabilities")!;
        Assert.Equal("Cast", outputCast.OpType);
        Assert.Equal(softmax.Output[0], outputCast.Input[0]);
        Assert.Empty(result.KeptFloat32);
        ModelComparison.Run(result.Model, OnnxTestData.SmoothImage(9, 3, 16), [1, 3, 16, 16]);
    }

    [Fact]
    public void KeptNodeByNameStaysFloat32AndValueInfoFollowsThePrecision()
    {
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax(size: 16);
        NodeProto relu = model.Graph.Node.Single(n => n.OpType == "Relu");
        NodeProto firstConv = model.Graph.Node.First(n => n.OpType == "Conv");
        model.Graph.ValueInfo.Add(new ValueInfoProto
        {
            Name = firstConv.Output[0],
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = ElementTypes.Float } },
        });
        model.Graph.ValueInfo.Add(new ValueInfoProto
        {
            Name = relu.Output[0],
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = ElementTypes.Float } },
        });

        Float16ConversionResult result = Float16Converter.Convert(model, new Float16ConversionOptions { KeepFloat32Nodes = [relu.Name] });

        Dictionary<string, int> types = result.Model.Graph.ValueInfo.ToDictionary(v => v.Name, v => v.Type.TensorType.ElemType);
        Assert.Equal(ElementTypes.Float16, types[firstConv.Output[0]]);
        Assert.Equal(ElementTypes.Float, types[relu.Output[0]]);
        Assert.Equal(1, result.KeptFloat32["Relu"]);
        ModelComparison.Run(result.Model, OnnxTestData.SmoothImage(2, 3, 16), [1, 3, 16, 16]);
    }

    [Fact]
    public void SizeArithmeticInFloatStaysFloat32()
    {
        // Reshape(y, Cast(Mul(Cast(Shape(y), float), 1.0), int64)): float16 would round sizes above 2048.
        OnnxTestGraph g = new();
        string y = g.Conv(g.Input("input", 1, 3, 8, 8), 3, 4);
        string sizes = g.Node("Cast", [g.Node("Shape", [y])], Attributes.Int("to", ElementTypes.Float));
        string one = g.Node("Constant", [], Attributes.Tensor("value", TensorData.CreateFloat("one", [], [1f])));
        string scaled = g.Node("Mul", [sizes, one]);
        string target = g.Node("Cast", [scaled], Attributes.Int("to", ElementTypes.Int64));
        g.Rename(g.Node("Reshape", [y, target]), "features");
        g.Output("features", 1, 4, 8, 8);
        ModelProto model = g.Build();

        Float16ConversionResult result = Float16Converter.Convert(model, new Float16ConversionOptions());

        NodeProto toFloat = result.Model.Graph.Node.First(n => n.OpType == "Cast" && n.Output[0] == sizes);
        Assert.Equal(ElementTypes.Float, Attributes.GetInt(toFloat, "to", 0));
        TensorProto constant = GraphIndex.ConstantNodeTensor(result.Model.Graph.Node.Single(n => n.OpType == "Constant"))!;
        Assert.Equal(ElementTypes.Float, constant.DataType);
        Assert.Equal(ElementTypes.Float16, result.Model.Graph.Initializer[0].DataType);
        OutputDifference difference = ModelComparison.Compare(model, result.Model, OnnxTestData.SmoothImage(4, 3, 8), [1, 3, 8, 8]);
        Assert.True(difference.MaxAbsolute < 1e-2, $"max |diff| {difference.MaxAbsolute}");
    }

    [Fact]
    public void WeightsBeyondFloat16RangeAreClampedAndCounted()
    {
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax(size: 8);
        TensorProto weight = model.Graph.Initializer[0];
        float[] values = TensorData.ReadFloats(weight);
        values[0] = 1e6f;
        values[1] = -7e4f;
        model.Graph.Initializer[0] = TensorData.CreateFloat(weight.Name, [.. weight.Dims], values);

        Float16ConversionResult result = Float16Converter.Convert(model, new Float16ConversionOptions());

        float[] converted = TensorData.ReadFloats(result.Model.Graph.Initializer[0]);
        Assert.Equal(2, result.ClampedValues);
        Assert.Equal(65504f, converted[0]);
        Assert.Equal(-65504f, converted[1]);
    }

    [Fact]
    public void ControlFlowIsRefusedRatherThanHalfConverted()
    {
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax(size: 8);
        NodeProto loop = new() { OpType = "If", Name = "branch" };
        loop.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = new GraphProto() });
        model.Graph.Node.Add(loop);

        OnnxModelException error = Assert.Throws<OnnxModelException>(() => Float16Converter.Convert(model, new Float16ConversionOptions()));

        Assert.Contains("branch", error.Message, StringComparison.Ordinal);
    }
}
