using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Vision.Postprocessing;

/// <summary>
/// Checks <see cref="InspectionOptions"/> at start-up and reports every problem at once, each naming the key,
/// the value and what is allowed. Whether override class names exist in the model is checked when a model is
/// loaded (<see cref="SegmentationPostprocessor.Prepare"/>), since models change while the service runs.
/// </summary>
public sealed class InspectionOptionsValidator : IValidateOptions<InspectionOptions>
{
    // A generous bound on a frame side: line-scan and large-area sensors stay well below it.
    private const int MaxFrameSide = 65536;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, InspectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(InspectionOptions.SectionName);
        if (options.RegionOfInterest is { } roi)
        {
            problems.InRange(roi.X, "RegionOfInterest:X", 0, MaxFrameSide - 1, " pixels");
            problems.InRange(roi.Y, "RegionOfInterest:Y", 0, MaxFrameSide - 1, " pixels");
            problems.InRange(roi.Width, "RegionOfInterest:Width", 1, MaxFrameSide, " pixels");
            problems.InRange(roi.Height, "RegionOfInterest:Height", 1, MaxFrameSide, " pixels");
        }

        if (options.IgnoreMaskPath is { } path)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                problems.Add("IgnoreMaskPath", path, "must be the path of a PNG the size of the frame (non-zero pixels are ignored), or absent");
            }
            else
            {
                problems.Check(File.Exists(path), "IgnoreMaskPath", path, "must name an existing PNG file the size of the frame");
            }
        }

        foreach (KeyValuePair<string, ClassOverrideOptions> entry in options.ClassOverrides)
        {
            string key = "ClassOverrides:" + entry.Key;
            ClassOverrideOptions value = entry.Value;
            if (value is null || (value.Threshold is null && value.MinArea is null))
            {
                problems.Add(key, null, "must set Threshold (0..1 exclusive) and/or MinArea (pixels >= 0)");
                continue;
            }

            if (value.Threshold is { } threshold)
            {
                problems.Check(threshold is > 0 and < 1, key + ":Threshold", threshold, "must be a probability in (0, 1), both ends excluded");
            }

            if (value.MinArea is { } minArea)
            {
                problems.InRange(minArea, key + ":MinArea", 0, int.MaxValue, " pixels");
            }
        }

        return problems.ToResult();
    }
}
