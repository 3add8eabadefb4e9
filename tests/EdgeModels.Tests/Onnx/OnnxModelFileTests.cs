using EdgeModels.Onnx;
using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;
using EdgeModels.Onnx.Verification;
using Google.Protobuf;

namespace EdgeModels.Tests.Onnx;

public sealed class OnnxModelFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("edge-models-onnx-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void SavedModelLoadsBackEqualAndReserializesToTheSameBytes()
    {
        ModelProto model = OnnxTestGraph.TinyUNet();
        string path = Path.Combine(_directory, "unet.onnx");

        OnnxModelFile.Save(model, path);
        ModelProto loaded = OnnxModelFile.Load(path);

        Assert.Equal(model, loaded);
        Assert.Equal(File.ReadAllBytes(path), OnnxModelFile.ToBytes(loaded));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void SavedModelRunsInOnnxRuntime()
    {
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax(size: 16);
        ModelProto loaded = OnnxModelFile.Parse(OnnxModelFile.ToBytes(model), "in-memory");

        (float[] probabilities, long[] shape) = ModelComparison.Run(loaded, OnnxTestData.SmoothImage(1, 3, 16), [1, 3, 16, 16]);

        Assert.Equal([1L, 3, 16, 16], shape);
        for (int pixel = 0; pixel < 16 * 16; pixel++)
        {
            float sum = probabilities[pixel] + probabilities[256 + pixel] + probabilities[512 + pixel];
            Assert.InRange(sum, 0.999f, 1.001f);
        }
    }

    [Fact]
    public void RepeatedInt64FieldsAreWrittenUnpackedAsProto2Requires()
    {
        // proto2 without [packed=true]: each dim is its own tag (0x08 = field 1, varint), as onnx.save writes them.
        // A proto3 transcription would pack them (0x0A, length, values) and change the bytes on disk.
        TensorProto tensor = TensorData.CreateFloat("t", [2, 3], new float[6]);

        byte[] bytes = tensor.ToByteArray();

        Assert.Equal(new byte[] { 0x08, 0x02, 0x08, 0x03, 0x10, 0x01 }, bytes[..6]);
    }

    [Fact]
    public void FieldsFromNewerOnnxVersionsSurviveALoadSaveRoundTrip()
    {
        byte[] original = OnnxModelFile.ToBytes(OnnxTestGraph.ConvReluConvSoftmax());
        using MemoryStream stream = new();
        stream.Write(original);
        CodedOutputStream extra = new(stream);
        extra.WriteTag(26, WireFormat.WireType.LengthDelimited);   // a ModelProto field this schema does not declare
        extra.WriteBytes(ByteString.CopyFromUtf8("device configuration"));
        extra.Flush();
        byte[] withUnknownField = stream.ToArray();

        ModelProto loaded = OnnxModelFile.Parse(withUnknownField, "newer.onnx");

        Assert.Equal(withUnknownField, OnnxModelFile.ToBytes(loaded));
    }

    [Fact]
    public void BytesThatAreNotAModelAreRefusedNamingTheSource()
    {
        OnnxModelException error = Assert.Throws<OnnxModelException>(() => OnnxModelFile.Parse([0x0A, 0xFF, 0xFF, 0x01], "broken.onnx"));

        Assert.Contains("broken.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelWithExternalWeightsIsRefusedNamingTheTensor()
    {
        ModelProto model = OnnxTestGraph.ConvReluConvSoftmax();
        TensorProto weight = model.Graph.Initializer[0];
        weight.ClearRawData();
        weight.DataLocation = TensorProto.Types.DataLocation.External;
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });

        OnnxModelException error = Assert.Throws<OnnxModelException>(() => OnnxModelFile.Parse(OnnxModelFile.ToBytes(model), "split.onnx"));

        Assert.Contains(weight.Name, error.Message, StringComparison.Ordinal);
    }
}
