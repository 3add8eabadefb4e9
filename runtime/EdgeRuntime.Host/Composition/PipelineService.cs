using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Inference.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeRuntime.Host.Composition;

/// <summary>
/// Loads and warms the configured model, then runs the pipeline until the host stops. A model that cannot be
/// loaded, or a pipeline fault, stops the service with a non-zero exit code so systemd restarts it; a replay
/// that reaches its end stops it cleanly.
/// </summary>
internal sealed partial class PipelineService(
    OnnxModelProvider models,
    InspectionPipeline pipeline,
    IHostApplicationLifetime lifetime,
    ILogger<PipelineService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            ModelLoadOutcome outcome = await models.LoadConfiguredAsync(stoppingToken).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                Log.ModelUnavailable(logger, outcome.ToString());
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }

            await pipeline.RunAsync(stoppingToken).ConfigureAwait(false);
            if (pipeline.SourceEnded)
            {
                Log.SourceEnded(logger);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (InvalidOperationException ex)
        {
            Log.PipelineFaulted(logger, ex);
            Environment.ExitCode = 1;
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Critical, "No model to serve: {Outcome}")]
        public static partial void ModelUnavailable(ILogger logger, string outcome);

        [LoggerMessage(101, LogLevel.Critical, "The pipeline stopped on a fault; the service exits so its supervisor can restart it")]
        public static partial void PipelineFaulted(ILogger logger, Exception exception);

        [LoggerMessage(102, LogLevel.Information, "The frame source ended; the service stops")]
        public static partial void SourceEnded(ILogger logger);
    }
}
