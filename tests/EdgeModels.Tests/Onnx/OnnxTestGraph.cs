using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;

namespace EdgeModels.Tests.Onnx;

/// <summary>
/// Builds small real ONNX models node by node with the generated proto classes, with seeded He-initialized
/// weights so that activations stay around unit scale like a trained network's.
/// </summary>
internal sealed class OnnxTestGraph
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly Random _random;
    private int _counter;

    public OnnxTestGraph(int seed = 1234)
    {
        _random = new Random(seed);
    }

    /// <summary>Declares a float32 input; a null dimension is symbolic (named "batch" at index 0).</summary>
    public string Input(string name, params long?[] dims)
    {
        _graph.Input.Add(ValueInfo(name, ElementTypes.Float, dims));
        return name;
    }

    public void Output(string name, params long?[] dims) => _graph.Output.Add(ValueInfo(name, ElementTypes.Float, dims));

    public string Conv(string input, int inChannels, int outChannels, int kernel = 3, int stride = 1, bool bias = true, int group = 1)
    {
        string weight = Weight([outChannels, inChannels / group, kernel, kernel], fanIn: inChannels / group * kernel * kernel);
        List<string> inputs = [input, weight];
        if (bias)
        {
            inputs.Add(Bias(outChannels));
        }

        int pad = kernel / 2;
        return Node("Conv", inputs,
            Attributes.Ints("kernel_shape", [kernel, kernel]),
            Attributes.Ints("pads", [pad, pad, pad, pad]),
            Attributes.Ints("strides", [stride, stride]),
            Attributes.Int("group", group));
    }

    public string ConvTranspose(string input, int inChannels, int outChannels, int kernel = 2, int stride = 2)
    {
        string weight = Weight([inChannels, outChannels, kernel, kernel], fanIn: inChannels * kernel * kernel / (stride * stride));
        return Node("ConvTranspose", [input, weight, Bias(outChannels)],
            Attributes.Ints("kernel_shape", [kernel, kernel]),
            Attributes.Ints("strides", [stride, stride]));
    }

    public string Relu(string input) => Node("Relu", [input]);

    public string MaxPool(string input) => Node("MaxPool", [input],
        Attributes.Ints("kernel_shape", [2, 2]), Attributes.Ints("strides", [2, 2]));

    public string Concat(params string[] inputs) => Node("Concat", inputs, Attributes.Int("axis", 1));

    public string Softmax(string input) => Node("Softmax", [input], Attributes.Int("axis", 1));

    public string MatMul(string input, int inFeatures, int outFeatures) =>
        Node("MatMul", [input, Weight([inFeatures, outFeatures], fanIn: inFeatures)]);

    public string Flatten(string input) => Node("Flatten", [input], Attributes.Int("axis", 1));

    public string Add(string a, string b) => Node("Add", [a, b]);

    /// <summary>Adds a node; the last output name is returned (renamed by <see cref="Rename"/> if needed).</summary>
    public string Node(string opType, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        int id = ++_counter;
        NodeProto node = new() { OpType = opType, Name = $"{opType.ToLowerInvariant()}_{id}" };
        node.Input.AddRange(inputs);
        node.Output.Add($"{opType.ToLowerInvariant()}_{id}_out");
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return node.Output[0];
    }

    /// <summary>Renames the value <paramref name="from"/> (as produced and consumed) to <paramref name="to"/>.</summary>
    public string Rename(string from, string to)
    {
        foreach (NodeProto node in _graph.Node)
        {
            for (int i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i] == from)
                {
                    node.Output[i] = to;
                }
            }

            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == from)
                {
                    node.Input[i] = to;
                }
            }
        }

        return to;
    }

    public ModelProto Build(long opset = 17)
    {
        ModelProto model = new() { IrVersion = 8, ProducerName = "edge-models-tests", ProducerVersion = "1", Graph = _graph.Clone() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    /// <summary>Conv -> Relu -> Conv -> Softmax over 3 classes, input [batch, 3, size, size].</summary>
    public static ModelProto ConvReluConvSoftmax(int size = 32, int seed = 7)
    {
        OnnxTestGraph g = new(seed);
        string x = g.Input("input", null, 3, size, size);
        string y = g.Relu(g.Conv(x, 3, 8));
        string logits = g.Conv(y, 8, 3, kernel: 1);
        g.Rename(g.Softmax(logits), "probabilities");
        g.Output("probabilities", null, 3, size, size);
        return g.Build();
    }

    /// <summary>
    /// A UNet like the sample model: per level two 3x3 Conv+Relu, MaxPool down, ConvTranspose up, skip Concats,
    /// 1x1 head to 3-class logits. Input [batch, 3, size, size]; <paramref name="widths"/> per level, the last is
    /// the bottleneck.
    /// </summary>
    public static ModelProto UNet(int size, int[] widths, int seed = 11)
    {
        OnnxTestGraph g = new(seed);
        string x = g.Input("input", null, 3, size, size);
        List<string> skips = [];
        int channels = 3;
        for (int level = 0; level < widths.Length; level++)
        {
            if (level > 0)
            {
                x = g.MaxPool(x);
            }

            x = g.Relu(g.Conv(g.Relu(g.Conv(x, channels, widths[level])), widths[level], widths[level]));
            channels = widths[level];
            skips.Add(x);
        }

        for (int level = widths.Length - 2; level >= 0; level--)
        {
            string up = g.ConvTranspose(x, channels, widths[level]);
            x = g.Relu(g.Conv(g.Relu(g.Conv(g.Concat(up, skips[level]), 2 * widths[level], widths[level])), widths[level], widths[level]));
            channels = widths[level];
        }

        g.Rename(g.Conv(x, channels, 3, kernel: 1), "logits");
        g.Output("logits", null, 3, size, size);
        return g.Build();
    }

    /// <summary>A three-level UNet, widths 8-16-32, small enough for fast tests.</summary>
    public static ModelProto TinyUNet(int size = 32, int seed = 11) => UNet(size, [8, 16, 32], seed);

    private string Weight(long[] dims, int fanIn)
    {
        float std = MathF.Sqrt(2f / fanIn);
        float[] values = new float[TensorData.ElementCount(dims)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Gaussian() * std;
        }

        return Initializer(TensorData.CreateFloat($"w{++_counter}", dims, values));
    }

    private string Bias(int channels)
    {
        float[] values = new float[channels];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Gaussian() * 0.1f;
        }

        return Initializer(TensorData.CreateFloat($"b{++_counter}", [channels], values));
    }

    private string Initializer(TensorProto tensor)
    {
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    private float Gaussian()
    {
        double u1 = 1.0 - _random.NextDouble();
        double u2 = _random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    private static ValueInfoProto ValueInfo(string name, int elementType, long?[] dims)
    {
        TensorShapeProto shape = new();
        for (int i = 0; i < dims.Length; i++)
        {
            shape.Dim.Add(dims[i] is { } value
                ? new TensorShapeProto.Types.Dimension { DimValue = value }
                : new TensorShapeProto.Types.Dimension { DimParam = i == 0 ? "batch" : $"d{i}" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }
}
