using System.Text;
using EdgeRuntime.Vision.Postprocessing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Vision.Tests.Postprocessing;

public sealed class InspectionOptionsValidatorTests
{
    private readonly InspectionOptionsValidator _validator = new();

    [Fact]
    public void InspectionSectionBindsRegionMaskAndOverrides()
    {
        string mask = Path.GetTempFileName();
        try
        {
            string json = $$"""
                {
                  "Inspection": {
                    "RegionOfInterest": { "X": 10, "Y": 20, "Width": 300, "Height": 200 },
                    "IgnoreMaskPath": "{{mask}}",
                    "ClassOverrides": {
                      "linear": { "Threshold": 0.35 },
                      "Blob": { "MinArea": 40 }
                    }
                  }
                }
                """;
            IConfiguration configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
            var options = new InspectionOptions();

            configuration.GetSection(InspectionOptions.SectionName).Bind(options);

            Assert.Equal((10, 20, 300, 200), (options.RegionOfInterest!.X, options.RegionOfInterest.Y, options.RegionOfInterest.Width, options.RegionOfInterest.Height));
            Assert.Equal(mask, options.IgnoreMaskPath);
            Assert.Equal(0.35, options.ClassOverrides["LINEAR"].Threshold);
            Assert.Equal(40, options.ClassOverrides["blob"].MinArea);
            Assert.True(_validator.Validate(null, options).Succeeded);
        }
        finally
        {
            File.Delete(mask);
        }
    }

    [Fact]
    public void EmptySectionIsValid()
    {
        Assert.True(_validator.Validate(null, new InspectionOptions()).Succeeded);
    }

    [Fact]
    public void EveryProblemIsReportedWithKeyValueAndWhatIsAllowed()
    {
        var options = new InspectionOptions
        {
            RegionOfInterest = new RegionOfInterestOptions { X = -1, Y = 0, Width = 0, Height = 10 },
            IgnoreMaskPath = "/nonexistent/mask.png",
        };
        options.ClassOverrides["linear"] = new ClassOverrideOptions { Threshold = 1.5, MinArea = -3 };
        options.ClassOverrides["blob"] = new ClassOverrideOptions();

        ValidateOptionsResult result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        string[] failures = [.. result.Failures];
        Assert.Equal(6, failures.Length);
        Assert.Contains("Inspection:RegionOfInterest:X = -1: must be between 0 and 65535 pixels", failures);
        Assert.Contains("Inspection:RegionOfInterest:Width = 0: must be between 1 and 65536 pixels", failures);
        Assert.Contains("Inspection:IgnoreMaskPath = \"/nonexistent/mask.png\": must name an existing PNG file the size of the frame", failures);
        Assert.Contains("Inspection:ClassOverrides:linear:Threshold = 1.5: must be a probability in (0, 1), both ends excluded", failures);
        Assert.Contains(failures, f => f.StartsWith("Inspection:ClassOverrides:linear:MinArea = -3: must be between 0 and", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Inspection:ClassOverrides:blob = (missing): must set Threshold", StringComparison.Ordinal));
    }
}
