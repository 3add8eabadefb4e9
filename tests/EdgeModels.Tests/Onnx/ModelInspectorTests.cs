using EdgeModels.Onnx;
using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Inspection;
using EdgeModels.Onnx.Protos;

namespace EdgeModels.Tests.Onnx;

public sealed class ModelInspectorTests
{
    // MACs and parameters of the layers, from the architecture rather than from the graph.
    private static long ConvMacs(int size, int inChannels, int outChannels, int kernel) => (long)size * size * outChannels * inChannels * kernel * kernel;

    private static long ConvParameters(int inChannels, int outChannels, int kernel) => ((long)outChannels * inChannels * kernel * kernel) + outChannels;

    [Fact]
    public void TinyUNetOperatorsParametersAndFlopsMatchItsArchitecture()
    {
        // TinyUNet: 32x32 input, widths 8-16-32, two 3x3 convs per level, 2x2 transposed convs up, 1x1 head.
        long expectedMacs =
            ConvMacs(32, 3, 8, 3) + ConvMacs(32, 8, 8, 3) +
            ConvMacs(16, 8, 16, 3) + ConvMacs(16, 16, 16, 3) +
            ConvMacs(8, 16, 32, 3) + ConvMacs(8, 32, 32, 3) +
            ConvMacs(8, 32, 16, 2) + ConvMacs(16, 32, 16, 3) + ConvMacs(16, 16, 16, 3) +
            ConvMacs(16, 16, 8, 2) + ConvMacs(32, 16, 8, 3) + ConvMacs(32, 8, 8, 3) +
            ConvMacs(32, 8, 3, 1);
        long expectedParameters =
            ConvParameters(3, 8, 3) + ConvParameters(8, 8, 3) + ConvParameters(8, 16, 3) + ConvParameters(16, 16, 3) +
            ConvParameters(16, 32, 3) + ConvParameters(32, 32, 3) +
            ConvParameters(32, 16, 2) + ConvParameters(32, 16, 3) + ConvParameters(16, 16, 3) +
            ConvParameters(16, 8, 2) + ConvParameters(16, 8, 3) + ConvParameters(8, 8, 3) +
            ConvParameters(8, 3, 1);

        ModelReport report = ModelInspector.Inspect(OnnxTestGraph.TinyUNet());

        Assert.Equal(expectedMacs, report.Compute.Macs);
        Assert.Equal(2 * expectedMacs, report.Compute.Flops);
        Assert.True(report.Compute.IsComplete);
        Assert.Equal(expectedParameters, report.ParameterCount);
        Assert.Equal(4 * expectedParameters, report.ParameterBytes);
        Dictionary<string, int> operators = report.Operators.ToDictionary(o => o.OpType, o => o.Count);
        Assert.Equal(11, operators["Conv"]);
        Assert.Equal(10, operators["Relu"]);
        Assert.Equal(2, operators["ConvTranspose"]);
        Assert.Equal(2, operators["MaxPool"]);
        Assert.Equal(2, operators["Concat"]);
    }

    [Fact]
    public void SymbolicBatchIsAssumedToBeOneAndSaidSo()
    {
        ModelReport report = ModelInspector.Inspect(OnnxTestGraph.TinyUNet());

        Assert.Equal([1L, 3, 32, 32], report.Compute.InputShapes["input"]);
        string note = Assert.Single(report.Compute.Assumptions);
        Assert.Contains("batch", note, StringComparison.Ordinal);
        Assert.Contains("assumed batch size 1", note, StringComparison.Ordinal);
        TensorSummary input = Assert.Single(report.Inputs);
        Assert.Equal(["batch", "3", "32", "32"], input.Dims);
        Assert.Equal("float32", input.ElementType);
    }

    [Fact]
    public void InputShapeOverrideScalesTheEstimate()
    {
        ModelProto model = OnnxTestGraph.UNet(32, [8, 16]);
        ModelProto larger = OnnxTestGraph.UNet(64, [8, 16]);
        long single = ModelInspector.Inspect(larger).Compute.Macs;

        ModelReport report = ModelInspector.Inspect(larger, [2, 3, 64, 64]);

        Assert.Equal(2 * single, report.Compute.Macs);
        Assert.Contains(report.Compute.Assumptions, note => note.Contains("sets it to 2", StringComparison.Ordinal));
        Assert.Throws<OnnxModelException>(() => ModelInspector.Inspect(model, [1, 3, 64, 64]));
        Assert.Throws<OnnxModelException>(() => ModelInspector.Inspect(model, [1, 3, 32]));
    }

    [Fact]
    public void ShapesComputedByExportedShapeArithmeticAreFollowed()
    {
        // x -> Conv -> Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) -> MatMul, as torch.flatten exports.
        OnnxTestGraph g = new();
        string x = g.Input("input", null, 4, 8, 8);
        string features = g.Conv(x, 4, 2, kernel: 1);
        string batch = g.Node("Gather", [g.Node("Shape", [features]), Constant(g, "zero", [], [0])], Attributes.Int("axis", 0));
        string target = g.Node("Concat", [g.Node("Unsqueeze", [batch, Constant(g, "axes", [1], [0])]), Constant(g, "minus_one", [1], [-1])], Attributes.Int("axis", 0));
        string flat = g.Node("Reshape", [features, target]);
        g.Rename(g.MatMul(flat, 2 * 8 * 8, 10), "scores");
        g.Output("scores", null, 10);

        ModelReport report = ModelInspector.Inspect(g.Build());

        Assert.True(report.Compute.IsComplete, string.Join("; ", report.Compute.UncountedNodes));
        Assert.Equal(ConvMacs(8, 4, 2, 1) + (2 * 8 * 8 * 10), report.Compute.Macs);
    }

    [Fact]
    public void NodesWithUnknownShapesAreListedNotGuessed()
    {
        OnnxTestGraph g = new();
        string x = g.Input("input", null, 3, null, null);
        g.Rename(g.Conv(x, 3, 4), "features");
        g.Output("features", null, 4, null, null);

        ModelReport report = ModelInspector.Inspect(g.Build());

        Assert.False(report.Compute.IsComplete);
        Assert.Single(report.Compute.UncountedNodes);
        Assert.Contains(report.Compute.Assumptions, note => note.Contains("input-shape", StringComparison.Ordinal));
        Assert.Equal(ConvMacs(20, 3, 4, 3), ModelInspector.Inspect(g.Build(), [1, 3, 20, 20]).Compute.Macs);
    }

    private static string Constant(OnnxTestGraph g, string name, long[] dims, long[] values) =>
        g.Node("Constant", [], Attributes.Tensor("value", TensorData.CreateInt64(name, dims, values)));
}
