namespace EdgeRuntime.IntegrationTests;

/// <summary>Where the repository's real assets are, found from the test binary's location.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The model package the default run serves.</summary>
    public static string SampleModel => Path.Combine(Root, "models", "packages", Host.Configuration.EmbeddedDefaults.SampleModelFolder);

    /// <summary>The replay samples of the default run, with their truth in labels.jsonl.</summary>
    public static string Samples => Path.Combine(Root, "models", "samples");

    public static string HostExecutable => Path.Combine(AppContext.BaseDirectory, "edge-runtime.dll");

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeRuntime.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EdgeRuntime.sln not found above " + AppContext.BaseDirectory);
    }
}
