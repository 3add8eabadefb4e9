using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeRuntime.Core.Inspection;

namespace EdgeModels.Cli.Evaluation;

/// <summary>Prints an <see cref="EvaluationReport"/> as a text table or as one JSON object. Stateless.</summary>
internal static class EvaluationReportWriter
{
    /// <summary>
    /// One JSON object. Stable keys: model {id, version, precision, provider}, images, perClass [{class, index, iou,
    /// dice, truthPixels, predictedPixels}], anyDefectDice, imageRecall, falseRejectRate, instanceRecall,
    /// meanLatencyMs, counts {...}, missedImages [...], falseRejectImages [...]. Scores are unrounded ratios 0..1, or null where undefined.
    /// </summary>
    public static string ToJson(EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            WriteModel(json, report.Model);
            json.WriteNumber("images", report.Images);
            json.WriteStartArray("perClass");
            foreach (ClassScore score in report.PerClass)
            {
                json.WriteStartObject();
                json.WriteString("class", score.Name);
                json.WriteNumber("index", score.Index);
                WriteRatio(json, "iou", score.Iou);
                WriteRatio(json, "dice", score.Dice);
                json.WriteNumber("truthPixels", score.TruthPixels);
                json.WriteNumber("predictedPixels", score.PredictedPixels);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            WriteRatio(json, "anyDefectDice", report.AnyDefectDice);
            WriteRatio(json, "imageRecall", report.ImageRecall);
            WriteRatio(json, "falseRejectRate", report.FalseRejectRate);
            WriteRatio(json, "instanceRecall", report.InstanceRecall);
            json.WriteNumber("meanLatencyMs", Math.Round(report.MeanLatencyMs, 3));
            json.WriteStartObject("counts");
            json.WriteNumber("defectiveImages", report.DefectiveImages);
            json.WriteNumber("defectiveImagesFailed", report.DefectiveImagesFailed);
            json.WriteNumber("goodImages", report.GoodImages);
            json.WriteNumber("goodImagesFailed", report.GoodImagesFailed);
            json.WriteNumber("pixels", report.Pixels);
            json.WriteNumber("truthInstances", report.Instances.TruthInstances);
            json.WriteNumber("recalledInstances", report.Instances.RecalledInstances);
            json.WriteNumber("reportedDefects", report.Instances.ReportedDefects);
            json.WriteNumber("falseDefects", report.Instances.FalseDefects);
            json.WriteEndObject();
            WriteNames(json, "missedImages", report.MissedImages);
            WriteNames(json, "falseRejectImages", report.FalseRejectImages);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The report as a table for a terminal.</summary>
    public static string ToText(EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        ModelIdentity model = report.Model;
        Line(text, $"model     {model.Id} {model.Version} ({model.Precision}) on {model.ExecutionProvider}");
        Line(text, $"images    {report.Images} ({report.DefectiveImages} with defects, {report.GoodImages} defect-free), {report.Pixels} pixels");
        text.AppendLine();
        int nameWidth = Math.Max(12, report.PerClass.Max(c => c.Name.Length) + 2);
        Line(text, $"{"class".PadRight(nameWidth)}{"IoU",8}{"Dice",8}{"true px",12}{"predicted px",14}");
        foreach (ClassScore score in report.PerClass)
        {
            Line(text, $"{score.Name.PadRight(nameWidth)}{Score(score.Iou),8}{Score(score.Dice),8}{score.TruthPixels,12}{score.PredictedPixels,14}");
        }

        Line(text, $"{"any defect".PadRight(nameWidth)}{string.Empty,8}{Score(report.AnyDefectDice),8}");
        text.AppendLine();
        InstanceCounts instances = report.Instances;
        Line(text, $"image defect recall  {Percent(report.ImageRecall),8}  ({report.DefectiveImagesFailed} of {report.DefectiveImages} images with defects FAIL)");
        Line(text, $"false-reject rate    {Percent(report.FalseRejectRate),8}  ({report.GoodImagesFailed} of {report.GoodImages} defect-free images FAIL)");
        Line(text, $"instance recall      {Percent(report.InstanceRecall),8}  ({instances.RecalledInstances} of {instances.TruthInstances} true defects touched by a reported defect)");
        Line(text, $"false defects        {instances.FalseDefects,8}  (of {instances.ReportedDefects} reported defects, touching no true defect pixel)");
        ListLine(text, "missed images", report.MissedImages);
        ListLine(text, "false rejects", report.FalseRejectImages);
        Line(text, $"mean latency         {report.MeanLatencyMs,8:F2}  ms per image (tiling, inference, postprocessing; decoding excluded)");
        return text.ToString();
    }

    /// <summary>A JSON array of image names.</summary>
    public static void WriteNames(Utf8JsonWriter json, string name, IReadOnlyList<string> images)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(images);
        json.WriteStartArray(name);
        foreach (string image in images)
        {
            json.WriteStringValue(image);
        }

        json.WriteEndArray();
    }

    /// <summary>Up to 20 image names on one line (the JSON has them all), so a wrong verdict can be looked at at once.</summary>
    public static void ListLine(StringBuilder text, string label, IReadOnlyList<string> images)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            return;
        }

        const int Shown = 20;
        string more = images.Count > Shown ? $" and {images.Count - Shown} more" : string.Empty;
        Line(text, $"{label,-21}{string.Join(' ', images.Take(Shown))}{more}");
    }

    /// <summary>The model object shared with bench's JSON: id, version, precision, provider.</summary>
    public static void WriteModel(Utf8JsonWriter json, ModelIdentity model)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(model);
        json.WriteStartObject("model");
        json.WriteString("id", model.Id);
        json.WriteString("version", model.Version);
        json.WriteString("precision", model.Precision);
        json.WriteString("provider", model.ExecutionProvider);
        json.WriteEndObject();
    }

    private static void WriteRatio(Utf8JsonWriter json, string name, double? value)
    {
        if (value is double number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void Line(StringBuilder text, FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

    private static string Score(double? value) => value is double v ? v.ToString("F4", CultureInfo.InvariantCulture) : "n/a";

    private static string Percent(double? value) => value is double v ? (v * 100).ToString("F2", CultureInfo.InvariantCulture) + "%" : "n/a";
}
