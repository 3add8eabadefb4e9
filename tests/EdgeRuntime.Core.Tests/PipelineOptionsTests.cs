using EdgeRuntime.Core.Pipeline;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Core.Tests;

public sealed class PipelineOptionsTests
{
    [Fact]
    public void DefaultsAreValid()
    {
        Assert.True(new PipelineOptionsValidator().Validate(null, new PipelineOptions()).Succeeded);
    }

    [Fact]
    public void EveryProblemIsReportedAtOnceNamingKeyValueAndWhatIsAllowed()
    {
        var options = new PipelineOptions
        {
            DeadlineMs = -5,
            MaxInFlight = 0,
            TriggerQueue = new QueueOptions { Capacity = 0, Policy = (OverloadPolicy)42 },
            StateDirectory = " ",
        };

        ValidateOptionsResult result = new PipelineOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        string[] failures = result.Failures!.ToArray();
        Assert.Contains("Pipeline:DeadlineMs = -5: must be between 1 and 600000 milliseconds", failures);
        Assert.Contains(failures, f => f.StartsWith("Pipeline:MaxInFlight = 0:", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Pipeline:TriggerQueue:Capacity = 0:", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Pipeline:TriggerQueue:Policy = 42: must be one of DropOldest, DropNewest, Block", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Pipeline:StateDirectory", StringComparison.Ordinal));
        Assert.Equal(5, failures.Length);
    }
}
