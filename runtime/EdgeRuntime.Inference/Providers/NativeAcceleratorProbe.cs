using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Inference.Providers;

/// <summary>
/// Reads the TensorRT version from libnvinfer (<c>getInferLibVersion</c>) and the GPU's identity from the CUDA driver
/// (<c>libcuda</c>), the same libraries ONNX Runtime's providers load. A library that is not there yields null, which
/// is the normal case on a machine without NVIDIA's stack. Thread-safe and stateless.
/// </summary>
public sealed class NativeAcceleratorProbe : IAcceleratorProbe
{
    private const int CudaSuccess = 0;
    private const int AttributeMultiprocessorCount = 16;
    private const int AttributeComputeCapabilityMajor = 75;
    private const int AttributeComputeCapabilityMinor = 76;

    private static readonly string[] s_tensorRtLibraries = ["libnvinfer.so.10", "libnvinfer.so.8", "libnvinfer.so", "nvinfer_10.dll", "nvinfer.dll"];
    private static readonly string[] s_cudaLibraries = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"];

    /// <inheritdoc />
    public AcceleratorFacts Probe(int deviceId) =>
        new(OrtEnv.Instance().GetVersionString(), ProbeTensorRtVersion(), ProbeGpuName(deviceId));

    /// <summary>
    /// Decodes <c>getInferLibVersion()</c>: TensorRT 10 encodes major*10000 + minor*100 + patch, earlier releases
    /// major*1000 + minor*100 + patch.
    /// </summary>
    internal static string DecodeTensorRtVersion(int encoded)
    {
        (int major, int rest) = encoded >= 100_000 ? Math.DivRem(encoded, 10_000) : Math.DivRem(encoded, 1_000);
        (int minor, int patch) = Math.DivRem(rest, 100);
        return string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}.{patch}");
    }

    private static unsafe string? ProbeTensorRtVersion()
    {
        foreach (string name in s_tensorRtLibraries)
        {
            if (!NativeLibrary.TryLoad(name, out IntPtr library))
            {
                continue;
            }

            try
            {
                if (NativeLibrary.TryGetExport(library, "getInferLibVersion", out IntPtr export))
                {
                    return DecodeTensorRtVersion(((delegate* unmanaged<int>)export)());
                }
            }
            finally
            {
                NativeLibrary.Free(library);
            }
        }

        return null;
    }

    private static unsafe string? ProbeGpuName(int deviceId)
    {
        foreach (string name in s_cudaLibraries)
        {
            if (!NativeLibrary.TryLoad(name, out IntPtr library))
            {
                continue;
            }

            try
            {
                if (!NativeLibrary.TryGetExport(library, "cuInit", out IntPtr init)
                    || !NativeLibrary.TryGetExport(library, "cuDeviceGet", out IntPtr deviceGet)
                    || !NativeLibrary.TryGetExport(library, "cuDeviceGetName", out IntPtr getName)
                    || !NativeLibrary.TryGetExport(library, "cuDeviceGetAttribute", out IntPtr getAttribute))
                {
                    return null;
                }

                if (((delegate* unmanaged<uint, int>)init)(0) != CudaSuccess)
                {
                    return null;
                }

                int device;
                if (((delegate* unmanaged<int*, int, int>)deviceGet)(&device, deviceId) != CudaSuccess)
                {
                    return null;
                }

                byte* text = stackalloc byte[256];
                if (((delegate* unmanaged<byte*, int, int, int>)getName)(text, 256, device) != CudaSuccess)
                {
                    return null;
                }

                var attribute = (delegate* unmanaged<int*, int, int, int>)getAttribute;
                int major, minor, multiprocessors;
                if (attribute(&major, AttributeComputeCapabilityMajor, device) != CudaSuccess
                    || attribute(&minor, AttributeComputeCapabilityMinor, device) != CudaSuccess
                    || attribute(&multiprocessors, AttributeMultiprocessorCount, device) != CudaSuccess)
                {
                    return null;
                }

                string gpu = Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(text));

                // Two modules can share a name (Jetson Orin NX and AGX Orin report "Orin") yet differ in SM count,
                // and TensorRT engines are tuned to both.
                return string.Create(CultureInfo.InvariantCulture, $"{gpu} sm_{major}{minor} {multiprocessors}SM");
            }
            finally
            {
                NativeLibrary.Free(library);
            }
        }

        return null;
    }
}
