using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeRuntime.Vision.Synthetic;
using OpenCvSharp;

namespace EdgeModels.Cli.Commands;

/// <summary>
/// <c>edge-models generate</c>: writes a synthetic defect data set (images, class masks, labels.jsonl) from a seed,
/// so training and evaluation data can be rebuilt bit for bit from the command line alone.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        Option<DirectoryInfo> outOption = new("--out") { Description = "Output directory (created; images/, masks/ and labels.jsonl are written into it).", Required = true };
        Option<int> countOption = new("--count") { Description = "Number of scenes to write.", Required = true };
        Option<long> seedOption = new("--seed") { Description = "Scene seed; the same seed and count give identical files.", DefaultValueFactory = _ => 1 };
        Option<int> firstOption = new("--first") { Description = "Index of the first scene (to extend a data set).", DefaultValueFactory = _ => 0 };
        Option<int> widthOption = new("--width") { Description = "Scene width in pixels.", DefaultValueFactory = _ => 256 };
        Option<int> heightOption = new("--height") { Description = "Scene height in pixels.", DefaultValueFactory = _ => 256 };
        Option<double> goodOption = new("--defect-free") { Description = "Probability that a scene is defect-free (0-1).", DefaultValueFactory = _ => 0.4 };

        Command command = new("generate", "Generate a synthetic defect data set: images/NNNNN.png, masks/NNNNN.png (pixel = class index), labels.jsonl.")
        {
            outOption, countOption, seedOption, firstOption, widthOption, heightOption, goodOption,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetRequiredValue(outOption),
            parse.GetValue(countOption),
            parse.GetValue(firstOption),
            new DefectSceneOptions
            {
                Seed = parse.GetValue(seedOption),
                Width = parse.GetValue(widthOption),
                Height = parse.GetValue(heightOption),
                DefectFreeProbability = parse.GetValue(goodOption),
            },
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(DirectoryInfo output, int count, int first, DefectSceneOptions options, CancellationToken cancellationToken)
    {
        if (count < 1 || first < 0)
        {
            await Console.Error.WriteLineAsync($"--count must be at least 1 (was {count}) and --first at least 0 (was {first}).").ConfigureAwait(false);
            return 2;
        }

        DefectSceneGenerator generator;
        try
        {
            generator = new DefectSceneGenerator(options);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"Invalid generator option: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        using (generator)
        {
            string images = Path.Combine(output.FullName, "images");
            string masks = Path.Combine(output.FullName, "masks");
            Directory.CreateDirectory(images);
            Directory.CreateDirectory(masks);
            string labelsPath = Path.Combine(output.FullName, "labels.jsonl");
            FileStream labelsFile = new(labelsPath, first == 0 ? FileMode.Create : FileMode.Append, FileAccess.Write);
            await using (labelsFile.ConfigureAwait(false))
            {
                await WriteScenesAsync(generator, output.FullName, labelsFile, count, first, cancellationToken).ConfigureAwait(false);
            }
        }

        await Console.Error.WriteLineAsync($"Wrote {count} scenes (seed {options.Seed}, {options.Width}x{options.Height}) to {output.FullName}.").ConfigureAwait(false);
        return 0;
    }

    private static async Task WriteScenesAsync(DefectSceneGenerator generator, string root, Stream labels, int count, int first, CancellationToken cancellationToken)
    {
        using Mat image = new();
        using Mat mask = new();
        List<DefectInstance> defects = new(8);
        using Utf8JsonWriter json = new(labels);
        int defective = 0;
        int digits = Math.Max(5, (first + count - 1).ToString(CultureInfo.InvariantCulture).Length);
        for (int i = first; i < first + count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SceneSummary scene = generator.Render(i, image, mask, defects);
            string name = i.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png";
            WritePng(Path.Combine(root, "images", name), image);
            WritePng(Path.Combine(root, "masks", name), mask);
            defective += scene.DefectCount > 0 ? 1 : 0;

            json.WriteStartObject();
            json.WriteString("file", name);
            json.WriteNumber("index", i);
            json.WriteString("surface", scene.Surface.ToString());
            json.WriteString("verdict", scene.DefectCount > 0 ? "FAIL" : "PASS");
            json.WriteStartArray("defects");
            foreach (DefectInstance defect in defects)
            {
                json.WriteStartObject();
                json.WriteString("kind", defect.Kind.ToString());
                json.WriteNumber("class", defect.ClassIndex);
                json.WriteStartArray("bbox");
                json.WriteNumberValue(defect.Bounds.X);
                json.WriteNumberValue(defect.Bounds.Y);
                json.WriteNumberValue(defect.Bounds.Width);
                json.WriteNumberValue(defect.Bounds.Height);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            await json.FlushAsync(cancellationToken).ConfigureAwait(false);
            json.Reset();
            labels.WriteByte((byte)'\n');

            int done = i - first + 1;
            if (done == count || done % 100 == 0)
            {
                await Console.Error.WriteLineAsync($"generated {done}/{count} ({defective} defective)").ConfigureAwait(false);
            }
        }
    }

    private static void WritePng(string path, Mat mat)
    {
        if (!Cv2.ImWrite(path, mat))
        {
            throw new IOException($"Could not write {path}.");
        }
    }
}
