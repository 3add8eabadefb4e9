using System.Runtime.InteropServices;

namespace EdgeRuntime.Inference.Models;

/// <summary>
/// Gives memory freed by a disposed ONNX Runtime session back to the operating system. glibc keeps freed blocks in
/// per-thread arenas, so a process that swaps models keeps the old sessions' pages resident; <c>malloc_trim</c>
/// releases them. Elsewhere (musl, Windows) it does nothing. Thread-safe.
/// </summary>
internal static unsafe class NativeHeap
{
    private static readonly delegate* unmanaged<nuint, int> s_trim = FindTrim();

    /// <summary>Releases free heap pages; true when the C library supports it.</summary>
    public static bool Trim()
    {
        if (s_trim == null)
        {
            return false;
        }

        s_trim(0);
        return true;
    }

    private static delegate* unmanaged<nuint, int> FindTrim()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out IntPtr libc))
        {
            return null;
        }

        // libc stays loaded for the life of the process, so the handle is never freed.
        return NativeLibrary.TryGetExport(libc, "malloc_trim", out IntPtr trim) ? (delegate* unmanaged<nuint, int>)trim : null;
    }
}
