using System.Globalization;
using System.Text.Json;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeRuntime.ModelPackages;

/// <summary>One line of a golden labels file: the expected verdict of an image and, when known, its defect classes.</summary>
internal sealed record GoldenLabel(GoldenVerdict Verdict, IReadOnlyList<string>? Classes)
{
    private static readonly string[] s_imageExtensions = [".png", ".jpg", ".jpeg", ".bmp"];

    /// <summary>Whether <paramref name="fileName"/> has an image extension the runtime decodes.</summary>
    public static bool IsImage(string fileName) =>
        s_imageExtensions.Any(extension => fileName.EndsWith(extension, StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads every line of a JSON Lines labels file, by file name; adds a problem per bad line and keeps the good ones.</summary>
    public static async Task<Dictionary<string, GoldenLabel>> ReadAllAsync(string path, ModelManifest manifest, List<PackageProblem> problems, CancellationToken cancellationToken)
    {
        var labels = new Dictionary<string, GoldenLabel>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            problems.Add(new PackageProblem(PackageProblemKind.GoldenLabelsInvalid, $"labels file {path} does not exist"));
            return labels;
        }

        string[] lines = await File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            string where = string.Create(CultureInfo.InvariantCulture, $"{path} line {i + 1}");
            try
            {
                using JsonDocument document = JsonDocument.Parse(lines[i]);
                if (Parse(document.RootElement, manifest, where, problems) is { } parsed)
                {
                    if (!labels.TryAdd(parsed.File, parsed.Label))
                    {
                        problems.Add(Problem(where, $"{parsed.File} is labelled twice"));
                    }
                }
            }
            catch (JsonException ex)
            {
                problems.Add(Problem(where, "is not valid JSON: " + ex.Message));
            }
        }

        return labels;
    }

    private static (string File, GoldenLabel Label)? Parse(JsonElement line, ModelManifest manifest, string where, List<PackageProblem> problems)
    {
        if (line.ValueKind != JsonValueKind.Object
            || !line.TryGetProperty("file", out JsonElement file) || file.ValueKind != JsonValueKind.String
            || !line.TryGetProperty("verdict", out JsonElement verdictText) || verdictText.ValueKind != JsonValueKind.String)
        {
            problems.Add(Problem(where, "must be an object with \"file\" and \"verdict\" strings"));
            return null;
        }

        GoldenVerdict? verdict = verdictText.GetString() switch
        {
            "PASS" => GoldenVerdict.Pass,
            "FAIL" => GoldenVerdict.Fail,
            _ => null,
        };
        if (verdict is null)
        {
            problems.Add(Problem(where, $"verdict = {verdictText.GetRawText()}: must be PASS or FAIL"));
            return null;
        }

        if (!line.TryGetProperty("defects", out JsonElement defects))
        {
            return (file.GetString()!, new GoldenLabel(verdict.Value, null));
        }

        if (defects.ValueKind != JsonValueKind.Array)
        {
            problems.Add(Problem(where, "defects must be an array"));
            return null;
        }

        var indices = new SortedSet<int>();
        foreach (JsonElement defect in defects.EnumerateArray())
        {
            if (ClassIndex(defect, manifest) is { } index)
            {
                indices.Add(index);
            }
            else
            {
                string names = string.Join(", ", manifest.Classes.Where(c => !c.IsBackground).Select(c => $"{c.Index} ({c.Name})"));
                problems.Add(Problem(where, $"defect {defect.GetRawText()}: \"class\" must be a defect class of model {manifest.Id}: {names}"));
                return null;
            }
        }

        if ((verdict == GoldenVerdict.Fail) != (indices.Count > 0))
        {
            problems.Add(Problem(where, $"verdict {verdictText.GetString()} contradicts its {indices.Count} defect class(es)"));
            return null;
        }

        return (file.GetString()!, new GoldenLabel(verdict.Value, indices.Count == 0 ? null : indices.Select(i => manifest.Classes[i].Name).ToArray()));
    }

    private static int? ClassIndex(JsonElement defect, ModelManifest manifest)
    {
        if (defect.ValueKind != JsonValueKind.Object || !defect.TryGetProperty("class", out JsonElement value))
        {
            return null;
        }

        int index = value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt32(out int number) => number,
            JsonValueKind.String => manifest.Classes.FirstOrDefault(c => string.Equals(c.Name, value.GetString(), StringComparison.Ordinal))?.Index ?? -1,
            _ => -1,
        };
        return index > 0 && index < manifest.ClassCount ? index : null;
    }

    private static PackageProblem Problem(string where, string message) => new(PackageProblemKind.GoldenLabelsInvalid, $"{where}: {message}");
}
