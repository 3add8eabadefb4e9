using System.Buffers.Binary;
using EdgeModels.Onnx.Protos;
using Google.Protobuf;

namespace EdgeModels.Onnx.Graph;

/// <summary>
/// Reads and writes the elements of <see cref="TensorProto"/>s, whichever of the typed fields or
/// <c>raw_data</c> (fixed-width little-endian) holds them.
/// </summary>
/// <remarks>
/// Readers return fresh arrays the caller owns. Writers always fill <c>raw_data</c>, the form exporters use for
/// weights. Element types are <see cref="TensorProto.Types.DataType"/> values. Stateless and thread-safe.
/// </remarks>
public static class TensorData
{
    /// <summary>Number of elements: the product of <c>dims</c>, 1 for a scalar.</summary>
    public static long ElementCount(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return ElementCount(tensor.Dims);
    }

    /// <summary>Product of <paramref name="dims"/>, 1 for none.</summary>
    public static long ElementCount(IEnumerable<long> dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long count = 1;
        foreach (long dim in dims)
        {
            count = checked(count * dim);
        }

        return count;
    }

    /// <summary>Elements of a FLOAT, FLOAT16, BFLOAT16 or DOUBLE tensor, widened or narrowed to <see cref="float"/>.</summary>
    /// <exception cref="OnnxModelException">Another element type, or the stored element count does not match <c>dims</c>.</exception>
    public static float[] ReadFloats(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        int count = CheckedCount(tensor);
        float[] values = new float[count];
        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Float:
                if (HasRaw(tensor))
                {
                    ReadOnlySpan<byte> raw = RawBytes(tensor, count, sizeof(float));
                    for (int i = 0; i < count; i++)
                    {
                        values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
                    }
                }
                else
                {
                    CheckTypedCount(tensor, tensor.FloatData.Count, count, "float_data");
                    tensor.FloatData.CopyTo(values, 0);
                }

                return values;

            case TensorProto.Types.DataType.Float16:
            case TensorProto.Types.DataType.Bfloat16:
                bool isHalf = tensor.DataType == (int)TensorProto.Types.DataType.Float16;
                ushort[] bits = ReadUInt16Bits(tensor, count);
                for (int i = 0; i < count; i++)
                {
                    values[i] = isHalf
                        ? (float)BitConverter.UInt16BitsToHalf(bits[i])
                        : BitConverter.Int32BitsToSingle(bits[i] << 16);
                }

                return values;

            case TensorProto.Types.DataType.Double:
                if (HasRaw(tensor))
                {
                    ReadOnlySpan<byte> raw = RawBytes(tensor, count, sizeof(double));
                    for (int i = 0; i < count; i++)
                    {
                        values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(i * sizeof(double))..]);
                    }
                }
                else
                {
                    CheckTypedCount(tensor, tensor.DoubleData.Count, count, "double_data");
                    for (int i = 0; i < count; i++)
                    {
                        values[i] = (float)tensor.DoubleData[i];
                    }
                }

                return values;

            default:
                throw UnexpectedType(tensor, "a floating-point type");
        }
    }

    /// <summary>Elements of an INT64, INT32, INT16, INT8, UINT8 or UINT16 tensor, widened to <see cref="long"/>.</summary>
    /// <exception cref="OnnxModelException">Another element type, or the stored element count does not match <c>dims</c>.</exception>
    public static long[] ReadInt64s(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        int count = CheckedCount(tensor);
        long[] values = new long[count];
        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Int64:
                if (HasRaw(tensor))
                {
                    ReadOnlySpan<byte> raw = RawBytes(tensor, count, sizeof(long));
                    for (int i = 0; i < count; i++)
                    {
                        values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * sizeof(long))..]);
                    }
                }
                else
                {
                    CheckTypedCount(tensor, tensor.Int64Data.Count, count, "int64_data");
                    tensor.Int64Data.CopyTo(values, 0);
                }

                return values;

            case TensorProto.Types.DataType.Int32:
                int[] ints = ReadInt32s(tensor);
                for (int i = 0; i < count; i++)
                {
                    values[i] = ints[i];
                }

                return values;

            case TensorProto.Types.DataType.Int8:
                sbyte[] signed = ReadInt8s(tensor);
                for (int i = 0; i < count; i++)
                {
                    values[i] = signed[i];
                }

                return values;

            case TensorProto.Types.DataType.Uint8:
                byte[] unsigned = ReadUInt8s(tensor);
                for (int i = 0; i < count; i++)
                {
                    values[i] = unsigned[i];
                }

                return values;

            case TensorProto.Types.DataType.Int16:
            case TensorProto.Types.DataType.Uint16:
                bool isSigned = tensor.DataType == (int)TensorProto.Types.DataType.Int16;
                ushort[] bits = ReadUInt16Bits(tensor, count);
                for (int i = 0; i < count; i++)
                {
                    values[i] = isSigned ? (short)bits[i] : bits[i];
                }

                return values;

            default:
                throw UnexpectedType(tensor, "an integer type");
        }
    }

    /// <summary>Elements of an INT32 tensor.</summary>
    /// <exception cref="OnnxModelException">Another element type, or the stored element count does not match <c>dims</c>.</exception>
    public static int[] ReadInt32s(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        RequireType(tensor, TensorProto.Types.DataType.Int32);
        int count = CheckedCount(tensor);
        int[] values = new int[count];
        if (HasRaw(tensor))
        {
            ReadOnlySpan<byte> raw = RawBytes(tensor, count, sizeof(int));
            for (int i = 0; i < count; i++)
            {
                values[i] = BinaryPrimitives.ReadInt32LittleEndian(raw[(i * sizeof(int))..]);
            }
        }
        else
        {
            CheckTypedCount(tensor, tensor.Int32Data.Count, count, "int32_data");
            tensor.Int32Data.CopyTo(values, 0);
        }

        return values;
    }

    /// <summary>Elements of an INT8 tensor.</summary>
    /// <exception cref="OnnxModelException">Another element type, or the stored element count does not match <c>dims</c>.</exception>
    public static sbyte[] ReadInt8s(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        RequireType(tensor, TensorProto.Types.DataType.Int8);
        int count = CheckedCount(tensor);
        sbyte[] values = new sbyte[count];
        if (HasRaw(tensor))
        {
            ReadOnlySpan<byte> raw = RawBytes(tensor, count, 1);
            for (int i = 0; i < count; i++)
            {
                values[i] = unchecked((sbyte)raw[i]);
            }
        }
        else
        {
            CheckTypedCount(tensor, tensor.Int32Data.Count, count, "int32_data");
            for (int i = 0; i < count; i++)
            {
                values[i] = checked((sbyte)tensor.Int32Data[i]);
            }
        }

        return values;
    }

    /// <summary>Elements of a UINT8 tensor.</summary>
    /// <exception cref="OnnxModelException">Another element type, or the stored element count does not match <c>dims</c>.</exception>
    public static byte[] ReadUInt8s(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        RequireType(tensor, TensorProto.Types.DataType.Uint8);
        int count = CheckedCount(tensor);
        if (HasRaw(tensor))
        {
            return RawBytes(tensor, count, 1).ToArray();
        }

        CheckTypedCount(tensor, tensor.Int32Data.Count, count, "int32_data");
        byte[] values = new byte[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = checked((byte)tensor.Int32Data[i]);
        }

        return values;
    }

    /// <summary>A FLOAT tensor holding <paramref name="values"/> in <c>raw_data</c>.</summary>
    public static TensorProto CreateFloat(string name, IReadOnlyList<long> dims, ReadOnlySpan<float> values)
    {
        byte[] raw = new byte[checked(values.Length * sizeof(float))];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), values[i]);
        }

        return Create(name, dims, TensorProto.Types.DataType.Float, raw, values.Length);
    }

    /// <summary>A FLOAT16 tensor holding <paramref name="values"/> in <c>raw_data</c>.</summary>
    public static TensorProto CreateFloat16(string name, IReadOnlyList<long> dims, ReadOnlySpan<Half> values)
    {
        byte[] raw = new byte[checked(values.Length * 2)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(raw.AsSpan(i * 2), values[i]);
        }

        return Create(name, dims, TensorProto.Types.DataType.Float16, raw, values.Length);
    }

    /// <summary>An INT8 tensor holding <paramref name="values"/> in <c>raw_data</c>.</summary>
    public static TensorProto CreateInt8(string name, IReadOnlyList<long> dims, ReadOnlySpan<sbyte> values)
    {
        byte[] raw = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            raw[i] = unchecked((byte)values[i]);
        }

        return Create(name, dims, TensorProto.Types.DataType.Int8, raw, values.Length);
    }

    /// <summary>A UINT8 tensor holding <paramref name="values"/> in <c>raw_data</c>.</summary>
    public static TensorProto CreateUInt8(string name, IReadOnlyList<long> dims, ReadOnlySpan<byte> values) =>
        Create(name, dims, TensorProto.Types.DataType.Uint8, values.ToArray(), values.Length);

    /// <summary>An INT32 tensor holding <paramref name="values"/> in <c>raw_data</c>.</summary>
    public static TensorProto CreateInt32(string name, IReadOnlyList<long> dims, ReadOnlySpan<int> values)
    {
        byte[] raw = new byte[checked(values.Length * sizeof(int))];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(raw.AsSpan(i * sizeof(int)), values[i]);
        }

        return Create(name, dims, TensorProto.Types.DataType.Int32, raw, values.Length);
    }

    /// <summary>An INT64 tensor holding <paramref name="values"/> in <c>raw_data</c>.</summary>
    public static TensorProto CreateInt64(string name, IReadOnlyList<long> dims, ReadOnlySpan<long> values)
    {
        byte[] raw = new byte[checked(values.Length * sizeof(long))];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * sizeof(long)), values[i]);
        }

        return Create(name, dims, TensorProto.Types.DataType.Int64, raw, values.Length);
    }

    private static TensorProto Create(string name, IReadOnlyList<long> dims, TensorProto.Types.DataType type, byte[] raw, int count)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dims);
        if (ElementCount(dims) != count)
        {
            throw new ArgumentException($"dims [{string.Join(", ", dims)}] hold {ElementCount(dims)} elements, but {count} values were given.", nameof(dims));
        }

        TensorProto tensor = new() { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static ushort[] ReadUInt16Bits(TensorProto tensor, int count)
    {
        ushort[] bits = new ushort[count];
        if (HasRaw(tensor))
        {
            ReadOnlySpan<byte> raw = RawBytes(tensor, count, sizeof(ushort));
            for (int i = 0; i < count; i++)
            {
                bits[i] = BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * sizeof(ushort))..]);
            }
        }
        else
        {
            // 16-bit types travel in int32_data as their bit patterns, one element per int32.
            CheckTypedCount(tensor, tensor.Int32Data.Count, count, "int32_data");
            for (int i = 0; i < count; i++)
            {
                bits[i] = unchecked((ushort)tensor.Int32Data[i]);
            }
        }

        return bits;
    }

    private static bool HasRaw(TensorProto tensor) => tensor.HasRawData;

    private static ReadOnlySpan<byte> RawBytes(TensorProto tensor, int count, int elementSize)
    {
        ReadOnlySpan<byte> raw = tensor.RawData.Span;
        if (raw.Length != (long)count * elementSize)
        {
            throw new OnnxModelException(
                $"tensor '{tensor.Name}' has {raw.Length} bytes of raw_data, but dims [{string.Join(", ", tensor.Dims)}] of " +
                $"{ElementTypes.Name(tensor.DataType)} need {(long)count * elementSize}.");
        }

        return raw;
    }

    private static void CheckTypedCount(TensorProto tensor, int stored, int expected, string field)
    {
        if (stored != expected)
        {
            throw new OnnxModelException(
                $"tensor '{tensor.Name}' holds {stored} elements in {field}, but dims [{string.Join(", ", tensor.Dims)}] need {expected}.");
        }
    }

    private static int CheckedCount(TensorProto tensor)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new OnnxModelException($"tensor '{tensor.Name}' keeps its data in an external file, which is not supported.");
        }

        long count = ElementCount(tensor);
        if (count > Array.MaxLength)
        {
            throw new OnnxModelException($"tensor '{tensor.Name}' has {count} elements, more than one array can hold.");
        }

        return (int)count;
    }

    private static void RequireType(TensorProto tensor, TensorProto.Types.DataType expected)
    {
        if (tensor.DataType != (int)expected)
        {
            throw UnexpectedType(tensor, ElementTypes.Name((int)expected));
        }
    }

    private static OnnxModelException UnexpectedType(TensorProto tensor, string expected) =>
        new($"tensor '{tensor.Name}' is {ElementTypes.Name(tensor.DataType)}, expected {expected}.");
}
