namespace EdgeRuntime.Host.Configuration;

/// <summary>
/// The out-of-the-box configuration: the sample model and replay images shipped beside the executable,
/// free-run triggering, state under the user's home (a provisioned device's config points to /var/lib).
/// A config file overrides any of it.
/// </summary>
public static class EmbeddedDefaults
{
    /// <summary>The bundled package the default run serves.</summary>
    public const string SampleModelFolder = "defect-unet-pruned-int8";

    /// <summary>Folder of the bundled assets, beside the executable.</summary>
    public static string AssetsDirectory => Path.Combine(AppContext.BaseDirectory, "assets");

    /// <summary>The key/value defaults.</summary>
    public static Dictionary<string, string?> Create()
    {
        string state = Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } systemdState
            ? systemdState
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "edge-runtime");
        return new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Model:Package"] = Path.Combine(AssetsDirectory, "models", SampleModelFolder),
            ["Source:Kind"] = "Replay",
            ["Source:Replay:Directory"] = Path.Combine(AssetsDirectory, "samples"),
            ["Source:Replay:Loop"] = "true",
            ["Source:Replay:RateHz"] = "0",
            ["Trigger:Kind"] = "FreeRun",
            // Free-run keeps every stage busy with three frames; more would only queue and add latency.
            ["Pipeline:MaxInFlight"] = "3",
            ["Pipeline:StateDirectory"] = state,
            ["Archive:Directory"] = Path.Combine(state, "archive"),
        };
    }
}
