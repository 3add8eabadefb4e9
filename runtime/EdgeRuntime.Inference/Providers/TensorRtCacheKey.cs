using System.Security.Cryptography;
using System.Text;

namespace EdgeRuntime.Inference.Providers;

/// <summary>
/// Everything a TensorRT engine depends on. ONNX Runtime names cached engines after the graph alone, so a new
/// TensorRT, another GPU or other build flags would load a stale engine from the same folder; giving each key its
/// own folder makes any change a cache miss, and an unchanged model and environment a hit. Immutable.
/// </summary>
/// <param name="ModelId">Model id (for a readable folder name only).</param>
/// <param name="ModelSha256">SHA-256 of the ONNX file.</param>
/// <param name="Precision">fp32, fp16 or int8.</param>
/// <param name="InputShape">Input name and shape profile, e.g. <c>input:1x3x256x256..16x3x256x256</c>.</param>
/// <param name="OnnxRuntimeVersion">ONNX Runtime version.</param>
/// <param name="TensorRtVersion">TensorRT version.</param>
/// <param name="GpuName">GPU name, compute capability and multiprocessor count.</param>
/// <param name="BuildSettings">Builder settings that change the engine (workspace, DLA core, optimisation level).</param>
public sealed record TensorRtCacheKey(
    string ModelId,
    string ModelSha256,
    string Precision,
    string InputShape,
    string OnnxRuntimeVersion,
    string TensorRtVersion,
    string GpuName,
    string BuildSettings)
{
    /// <summary>The key as one line per part, the text that is hashed.</summary>
    public string CanonicalText =>
        $"model.sha256={ModelSha256}\nprecision={Precision}\ninput={InputShape}\nonnxruntime={OnnxRuntimeVersion}\ntensorrt={TensorRtVersion}\ngpu={GpuName}\nbuild={BuildSettings}\n";

    /// <summary>Folder name: <c>&lt;model id&gt;-&lt;precision&gt;-&lt;first 16 hex digits of SHA-256(CanonicalText)&gt;</c>.</summary>
    public string DirectoryName
    {
        get
        {
            string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalText)));
            return $"{ModelId}-{Precision}-{hash[..16]}";
        }
    }
}
