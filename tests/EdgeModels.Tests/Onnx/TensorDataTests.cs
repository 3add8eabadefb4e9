using EdgeModels.Onnx;
using EdgeModels.Onnx.Graph;
using EdgeModels.Onnx.Protos;
using Google.Protobuf;

namespace EdgeModels.Tests.Onnx;

public sealed class TensorDataTests
{
    [Fact]
    public void FloatsAreStoredLittleEndianInRawData()
    {
        TensorProto tensor = TensorData.CreateFloat("w", [2], [1.0f, -2.5f]);

        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0 }, tensor.RawData.ToByteArray());
        Assert.Equal([1.0f, -2.5f], TensorData.ReadFloats(tensor));
    }

    [Fact]
    public void FloatDataFieldIsReadWhenThereIsNoRawData()
    {
        TensorProto tensor = new() { Name = "w", DataType = ElementTypes.Float };
        tensor.Dims.Add(3);
        tensor.FloatData.Add([0.5f, 1.5f, -3f]);

        Assert.Equal([0.5f, 1.5f, -3f], TensorData.ReadFloats(tensor));
    }

    [Fact]
    public void HalvesRoundTripThroughRawDataAndInt32Data()
    {
        Half[] values = [(Half)0.1f, (Half)(-1024f), (Half)65504f];
        TensorProto raw = TensorData.CreateFloat16("h", [3], values);
        TensorProto typed = new() { Name = "h", DataType = ElementTypes.Float16 };
        typed.Dims.Add(3);
        typed.Int32Data.Add(values.Select(v => (int)BitConverter.HalfToUInt16Bits(v)));

        Assert.Equal(values.Select(v => (float)v), TensorData.ReadFloats(raw));
        Assert.Equal(values.Select(v => (float)v), TensorData.ReadFloats(typed));
    }

    [Fact]
    public void Int8AndInt32ValuesRoundTrip()
    {
        TensorProto int8 = TensorData.CreateInt8("q", [4], [-127, -1, 0, 127]);
        TensorProto int32 = TensorData.CreateInt32("b", [2], [int.MinValue, 123_456]);

        Assert.Equal([-127, -1, 0, 127], TensorData.ReadInt8s(int8));
        Assert.Equal([int.MinValue, 123_456], TensorData.ReadInt32s(int32));
        Assert.Equal([-127L, -1, 0, 127], TensorData.ReadInt64s(int8));
    }

    [Fact]
    public void RawDataOfTheWrongLengthIsReportedWithTheTensorName()
    {
        TensorProto tensor = TensorData.CreateFloat("conv1.weight", [2], [1f, 2f]);
        tensor.RawData = ByteString.CopyFrom(new byte[7]);

        OnnxModelException error = Assert.Throws<OnnxModelException>(() => TensorData.ReadFloats(tensor));

        Assert.Contains("conv1.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("7 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadingAnIntegerTensorAsFloatIsRefused()
    {
        TensorProto tensor = TensorData.CreateInt64("shape", [2], [1, 2]);

        Assert.Throws<OnnxModelException>(() => TensorData.ReadFloats(tensor));
    }
}
