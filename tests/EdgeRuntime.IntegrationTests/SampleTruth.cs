using System.Text.Json;
using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.IntegrationTests;

/// <summary>The generator's ground truth for the replay samples (labels.jsonl beside them).</summary>
internal sealed record SampleTruth(string File, string Verdict, IReadOnlyList<PixelRect> Defects)
{
    public static IReadOnlyList<SampleTruth> Load(string directory)
    {
        var truths = new List<SampleTruth>();
        foreach (string line in System.IO.File.ReadLines(Path.Combine(directory, "labels.jsonl")))
        {
            using JsonDocument json = JsonDocument.Parse(line);
            JsonElement root = json.RootElement;
            var boxes = root.GetProperty("defects").EnumerateArray()
                .Select(d => d.GetProperty("bbox").EnumerateArray().Select(v => v.GetInt32()).ToArray())
                .Select(b => new PixelRect(b[0], b[1], b[2], b[3]))
                .ToArray();
            truths.Add(new SampleTruth(root.GetProperty("file").GetString()!, root.GetProperty("verdict").GetString()!, boxes));
        }

        return truths;
    }
}
