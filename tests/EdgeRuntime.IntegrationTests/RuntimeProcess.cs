using System.Diagnostics;
using System.Runtime.InteropServices;

namespace EdgeRuntime.IntegrationTests;

/// <summary>Starts the edge-runtime executable as a person or systemd would, and signals it.</summary>
internal static class RuntimeProcess
{
    private const int SigInt = 2;

    /// <summary>Starts <c>edge-runtime</c> with redirected output; the caller disposes the process.</summary>
    public static Process Start(string arguments, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{RepositoryPaths.HostExecutable}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("edge-runtime did not start");
    }

    /// <summary>Sends SIGINT (Ctrl-C): the clean stop. Returns 0 on success, as kill(2) does.</summary>
    public static int Interrupt(int pid) => Kill(pid, SigInt);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
