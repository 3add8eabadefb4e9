using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Diagnostics.Console;

/// <summary>Prints one line per result to the console (or any writer). Called by the publish stage only.</summary>
public sealed class ConsoleResultSink(IOptions<ConsoleReportOptions> options, TextWriter output) : IResultSink
{
    private readonly ResultLineFormatter _formatter = new();
    private readonly bool _enabled = options.Value.PrintResults;

    /// <inheritdoc />
    public string Name => "console";

    /// <inheritdoc />
    public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
    {
        if (_enabled)
        {
            output.WriteLine(_formatter.Format(result));
        }

        return ValueTask.CompletedTask;
    }
}
