using System.Globalization;
using System.Text;
using EdgeRuntime.ModelPackages;
using OpenCvSharp;

namespace EdgeRuntime.Benchmarks;

/// <summary>A model package to measure and where it came from.</summary>
/// <param name="Directory">The package folder.</param>
/// <param name="Origin">How it was chosen, for the report.</param>
/// <param name="IsFallback">True when no sample package was found and the tiny test model stands in.</param>
internal sealed record ModelChoice(string Directory, string Origin, bool IsFallback);

/// <summary>
/// The benchmark's files: the repository's sample model packages and replay images, and a scratch folder under /tmp
/// (state directories, generated replay folders, the tiny model's package) that is deleted on dispose.
/// </summary>
internal sealed class BenchAssets : IDisposable
{
    /// <summary>Sample packages in order of preference: the INT8 model the service ships, then its fp32 parents.</summary>
    private static readonly string[] s_samplePackages = ["defect-unet-pruned-int8", "defect-unet-pruned-fp32", "defect-unet-fp32"];

    // The tiny test model (tests/EdgeRuntime.Inference.Tests/TestData): 3x64x64 input "input", 3-class logits "logits".
    private const int TinySize = 64;
    private const int TinyOverlap = 8;

    // Mosaics are laid out on the samples' own size, so every sample appears whole and its defects with it.
    private const int MosaicCell = 512;

    public BenchAssets()
    {
        Root = FindRepositoryRoot();
        Scratch = System.IO.Directory.CreateTempSubdirectory("edge-bench-").FullName;
    }

    /// <summary>The repository root (where EdgeRuntime.sln is).</summary>
    public string Root { get; }

    /// <summary>The scratch folder; deleted on dispose.</summary>
    public string Scratch { get; }

    /// <summary>The replay samples the default run serves (512x512 BGR PNGs).</summary>
    public string Samples => Path.Combine(Root, "models", "samples");

    /// <summary>A fresh folder under the scratch folder.</summary>
    public string NewFolder(string name) => System.IO.Directory.CreateDirectory(Path.Combine(Scratch, name)).FullName;

    /// <summary>The package named on the command line, else the first sample package present, else the tiny model.</summary>
    /// <exception cref="BenchUsageException">The named folder has no manifest.json.</exception>
    public async Task<ModelChoice> ChooseModelAsync(string? requested, CancellationToken cancellationToken)
    {
        if (requested is not null)
        {
            string full = Path.GetFullPath(requested);
            if (!File.Exists(Path.Combine(full, PackagePaths.ManifestFileName)))
            {
                throw new BenchUsageException($"--model {requested}: {full} is not a model package (no {PackagePaths.ManifestFileName})");
            }

            return new ModelChoice(full, "--model " + requested, IsFallback: false);
        }

        foreach (string name in s_samplePackages)
        {
            string candidate = Path.Combine(Root, "models", "packages", name);
            if (File.Exists(Path.Combine(candidate, PackagePaths.ManifestFileName)))
            {
                return new ModelChoice(candidate, "models/packages/" + name, IsFallback: false);
            }
        }

        string tiny = await TinyPackageAsync(cancellationToken).ConfigureAwait(false);
        return new ModelChoice(tiny, "tiny test model (no package under models/packages yet: " + string.Join(", ", s_samplePackages) + ")", IsFallback: true);
    }

    /// <summary>
    /// A package around the tiny test model (64x64 tiles, 8 pixels of overlap), written once into the scratch folder:
    /// the fast configuration for counting collections over many frames.
    /// </summary>
    public async Task<string> TinyPackageAsync(CancellationToken cancellationToken)
    {
        string directory = Path.Combine(Scratch, "tiny-unet");
        if (File.Exists(Path.Combine(directory, PackagePaths.ManifestFileName)))
        {
            return directory;
        }

        System.IO.Directory.CreateDirectory(directory);
        string model = Path.Combine(AppContext.BaseDirectory, "TestData", "tiny-unet.onnx");
        File.Copy(model, Path.Combine(directory, "model.onnx"));
        string manifest = string.Create(CultureInfo.InvariantCulture, $$"""
            {
              "schemaVersion": 1,
              "id": "tiny-unet",
              "version": "1.0.0",
              "task": "semantic-segmentation",
              "model": { "file": "model.onnx", "sha256": "{{new string('0', 64)}}", "precision": "fp32" },
              "input": {
                "name": "input", "layout": "NCHW", "width": {{TinySize}}, "height": {{TinySize}}, "channels": 3,
                "colorOrder": "RGB", "dtype": "float32", "resize": "tile",
                "normalization": { "scale": 0.00392156862745098, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25] }
              },
              "output": { "name": "logits", "kind": "logits", "activation": "softmax" },
              "classes": [
                { "index": 0, "name": "good", "color": "#000000" },
                { "index": 1, "name": "linear", "color": "#ff3030", "threshold": 0.5, "minArea": 6 },
                { "index": 2, "name": "blob", "color": "#30a0ff", "threshold": 0.5, "minArea": 10 }
              ],
              "tiling": { "tileWidth": {{TinySize}}, "tileHeight": {{TinySize}}, "overlap": {{TinyOverlap}} }
            }
            """);
        await File.WriteAllTextAsync(Path.Combine(directory, PackagePaths.ManifestFileName), manifest, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        try
        {
            await PackageAuthoring.UpdateModelHashAsync(directory, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelPackageException ex)
        {
            throw new BenchmarkException($"the tiny model's package in {directory} could not be written: {ex.Message}", ex);
        }

        return directory;
    }

    /// <summary>
    /// A replay folder of <paramref name="count"/> images of <paramref name="side"/> x <paramref name="side"/> pixels made
    /// from the samples: larger frames are mosaics of samples (real defects on every tile), smaller ones centre crops.
    /// </summary>
    public string ReplayFolder(string name, int side, int count)
    {
        string folder = NewFolder(name);
        if (System.IO.Directory.GetFiles(folder, "*.png").Length == count)
        {
            return folder;
        }

        string[] samples = ImageFiles(Samples);
        if (samples.Length == 0)
        {
            throw new BenchmarkException($"{Samples} holds no PNG samples to replay");
        }

        for (int i = 0; i < count; i++)
        {
            using Mat image = new(side, side, MatType.CV_8UC3, Scalar.All(0));
            int next = i;
            for (int y = 0; y < side; y += MosaicCell)
            {
                for (int x = 0; x < side; x += MosaicCell)
                {
                    string file = samples[next++ % samples.Length];
                    using Mat sample = Cv2.ImRead(file, ImreadModes.Color);
                    if (sample.Empty())
                    {
                        throw new BenchmarkException($"{file} could not be decoded");
                    }

                    int width = Math.Min(Math.Min(sample.Width, MosaicCell), side - x);
                    int height = Math.Min(Math.Min(sample.Height, MosaicCell), side - y);
                    using Mat source = new(sample, new Rect((sample.Width - width) / 2, (sample.Height - height) / 2, width, height));
                    using Mat target = new(image, new Rect(x, y, width, height));
                    source.CopyTo(target);
                }
            }

            string path = Path.Combine(folder, i.ToString("D3", CultureInfo.InvariantCulture) + ".png");
            if (!Cv2.ImWrite(path, image))
            {
                throw new BenchmarkException($"could not write {path}");
            }
        }

        return folder;
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Scratch))
        {
            System.IO.Directory.Delete(Scratch, recursive: true);
        }
    }

    private static string[] ImageFiles(string folder)
    {
        if (!System.IO.Directory.Exists(folder))
        {
            return [];
        }

        string[] files = System.IO.Directory.GetFiles(folder, "*.png");
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    private static string FindRepositoryRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "EdgeRuntime.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new BenchmarkException($"EdgeRuntime.sln not found above {Environment.CurrentDirectory} or {AppContext.BaseDirectory}: run the benchmark from the repository");
    }
}
