using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeModels.Cli.Evaluation;
using EdgeRuntime.ModelPackages;
using EdgeRuntime.ModelPackages.Manifest;

namespace EdgeModels.Cli.Tuning;

/// <summary>Prints a <see cref="TuningReport"/> as a table or as one JSON object. Stateless.</summary>
internal static class TuningReportWriter
{
    /// <summary>
    /// One JSON object. Stable keys: model {id, version, precision, provider}, images, defectiveImages, goodImages,
    /// targets {recall, falseRejectRate}, thresholdSets, minAreaSets, current, best, candidates [...], written,
    /// signatureRemoved. A rule is {classes [{class, index, threshold, minArea}], recall, falseRejectRate, meetsTargets,
    /// missedImages [...], falseRejectImages [...]}; ratios are unrounded 0..1.
    /// </summary>
    public static string ToJson(TuningReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            EvaluationReportWriter.WriteModel(json, report.Model);
            json.WriteNumber("images", report.Images);
            json.WriteNumber("defectiveImages", report.DefectiveImages);
            json.WriteNumber("goodImages", report.Images - report.DefectiveImages);
            json.WriteStartObject("targets");
            json.WriteNumber("recall", report.TargetRecall);
            json.WriteNumber("falseRejectRate", report.TargetFalseRejectRate);
            json.WriteEndObject();
            json.WriteNumber("thresholdSets", report.ThresholdSets);
            json.WriteNumber("minAreaSets", report.MinAreaSets);
            json.WritePropertyName("current");
            WriteRule(json, report.Current, report.ClassNames);
            json.WritePropertyName("best");
            WriteRule(json, report.Best[0], report.ClassNames);
            json.WriteStartArray("candidates");
            foreach (VerdictRule rule in report.Best)
            {
                WriteRule(json, rule, report.ClassNames);
            }

            json.WriteEndArray();
            json.WriteBoolean("written", report.Written);
            json.WriteBoolean("signatureRemoved", report.SignatureRemoved);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The report as a table for a terminal: the package's rule, the best, then the other candidates.</summary>
    public static string ToText(TuningReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        Line(text, $"model     {report.Model.Id} {report.Model.Version} ({report.Model.Precision}) on {report.Model.ExecutionProvider}");
        Line(text, $"images    {report.Images} ({report.DefectiveImages} with defects, {report.Images - report.DefectiveImages} defect-free); {report.ThresholdSets} threshold sets x {report.MinAreaSets} minimum-area sets");
        Line(text, $"targets   image recall >= {Percent(report.TargetRecall)}, false-reject rate <= {Percent(report.TargetFalseRejectRate)}");
        text.AppendLine();
        string header = "rule      " + string.Concat(report.Current.Limits.Select(l => $"{report.ClassNames[l.Index] + " thr/minArea",-22}"));
        Line(text, $"{header}{"recall",-22}{"false rejects",-16}");
        RuleLine(text, "package", report.Current, report.ClassNames);
        for (int i = 0; i < report.Best.Count; i++)
        {
            RuleLine(text, i == 0 ? "best" : $"#{i + 1}", report.Best[i], report.ClassNames);
        }

        text.AppendLine();
        VerdictRule best = report.Best[0];
        Line(text, $"best rule {(best.MeetsTargets ? "meets" : "does NOT meet")} the targets on this set");
        EvaluationReportWriter.ListLine(text, "missed images", best.MissedImages);
        EvaluationReportWriter.ListLine(text, "false rejects", best.FalseRejectImages);
        if (report.Written)
        {
            string limits = string.Join(", ", best.Limits.Select(l => Invariant($"{report.ClassNames[l.Index]} {l.Threshold}/{l.MinArea}")));
            Line(text, $"wrote     {PackagePaths.ManifestFileName}: {limits}");
            if (report.SignatureRemoved)
            {
                Line(text, $"removed   {PackagePaths.SignatureFileName}: it signed the old manifest; sign the package again");
            }

            Line(text, $"note      golden samples are judged again at the next load; run edge-models eval on a held-out set for the figures to report");
        }

        return text.ToString();
    }

    private static void WriteRule(Utf8JsonWriter json, VerdictRule rule, IReadOnlyList<string> classNames)
    {
        json.WriteStartObject();
        json.WriteStartArray("classes");
        foreach (ClassLimits limit in rule.Limits)
        {
            json.WriteStartObject();
            json.WriteString("class", classNames[limit.Index]);
            json.WriteNumber("index", limit.Index);
            json.WriteNumber("threshold", limit.Threshold);
            json.WriteNumber("minArea", limit.MinArea);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNumber("recall", rule.Recall);
        json.WriteNumber("falseRejectRate", rule.FalseRejectRate);
        json.WriteBoolean("meetsTargets", rule.MeetsTargets);
        EvaluationReportWriter.WriteNames(json, "missedImages", rule.MissedImages);
        EvaluationReportWriter.WriteNames(json, "falseRejectImages", rule.FalseRejectImages);
        json.WriteEndObject();
    }

    private static void RuleLine(StringBuilder text, string label, VerdictRule rule, IReadOnlyList<string> classNames)
    {
        string limits = string.Concat(rule.Limits.Select(l => $"{Invariant($"{l.Threshold:0.###} / {l.MinArea}"),-22}"));
        string recall = Invariant($"{Percent(rule.Recall)} ({rule.MissedImages.Count} missed)");
        string falseRejects = Invariant($"{Percent(rule.FalseRejectRate)} ({rule.FalseRejectImages.Count})");
        Line(text, $"{label,-10}{limits}{recall,-22}{falseRejects,-16}{(rule.MeetsTargets ? "meets targets" : string.Empty)}");
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

    private static string Percent(double value) => (value * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
