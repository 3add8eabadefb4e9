using EdgeModels.Onnx.Protos;
using Google.Protobuf;

namespace EdgeModels.Onnx;

/// <summary>Reads and writes <c>.onnx</c> files (a serialized <see cref="ModelProto"/>).</summary>
/// <remarks>
/// Parsing keeps fields this schema does not declare as unknown fields and writes them back, so a model from a
/// newer exporter survives a load/save round trip. Models that keep tensors in external data files are refused:
/// every transform here rewrites initializers in place, and a relocated copy would point at the wrong files.
/// Stateless and safe to call from any thread.
/// </remarks>
public static class OnnxModelFile
{
    /// <summary>Reads the model at <paramref name="path"/>.</summary>
    /// <exception cref="OnnxModelException">The file is not a protobuf-encoded ONNX model, has no graph, or uses external data.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ModelProto Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses a serialized model; <paramref name="sourceName"/> names it in error messages.</summary>
    /// <exception cref="OnnxModelException">The bytes are not an ONNX model this library can transform.</exception>
    public static ModelProto Parse(byte[] bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new OnnxModelException($"{sourceName} is not an ONNX model (protobuf decoding failed: {ex.Message}).", ex);
        }

        if (model.Graph is null)
        {
            throw new OnnxModelException($"{sourceName} has no graph (ModelProto.graph is missing); it is not an ONNX model.");
        }

        if (model.OpsetImport.Count == 0)
        {
            throw new OnnxModelException($"{sourceName} imports no operator set (ModelProto.opset_import is empty); it is not an ONNX model.");
        }

        foreach (TensorProto initializer in model.Graph.Initializer)
        {
            if (initializer.DataLocation == TensorProto.Types.DataLocation.External || initializer.ExternalData.Count > 0)
            {
                throw new OnnxModelException(
                    $"{sourceName}: initializer '{initializer.Name}' keeps its data in an external file; " +
                    "edge-models needs a self-contained model (re-export without external data, e.g. onnx.save(..., save_as_external_data=False)).");
            }
        }

        return model;
    }

    /// <summary>Serializes <paramref name="model"/> to the ONNX wire format.</summary>
    public static byte[] ToBytes(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.ToByteArray();
    }

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/>, replacing an existing file only once the new one
    /// is completely written, so a failed conversion never leaves half a model behind.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(ModelProto model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        string temporary = fullPath + ".partial";
        try
        {
            File.WriteAllBytes(temporary, ToBytes(model));
            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            // Only a failed write or move leaves the temporary file behind.
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
