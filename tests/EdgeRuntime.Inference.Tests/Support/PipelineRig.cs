using System.Globalization;
using System.Runtime.CompilerServices;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Vision.Preprocessing;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeRuntime.Inference.Tests.Support;

/// <summary>
/// The real <see cref="InspectionPipeline"/> with the production preprocessing and postprocessing, free-running over a
/// repeating list of colour scenes (frame n shows <c>scenes[(n - 1) % count]</c>, id <c>"{n:D4}-{scene}"</c>).
/// </summary>
internal sealed class PipelineRig : IDisposable
{
    private readonly TempDirectory _state = new();
    private readonly FramePool _frames = new();

    /// <param name="models">The serving model.</param>
    /// <param name="scenes">What the frames show, in a cycle.</param>
    /// <param name="frames">Frames the source delivers before it ends; null = until stopped.</param>
    /// <param name="observer">The pipeline's observer (a shadow model), if any.</param>
    public PipelineRig(IModelProvider models, IReadOnlyList<Scene> scenes, int? frames = null, IInspectionObserver? observer = null)
    {
        Trigger = new FreeRunTrigger();
        var options = new PipelineOptions { StateDirectory = _state.Path, MaxInFlight = 4, DeadlineMs = 600_000 };
        Pipeline = new InspectionPipeline(
            Trigger, new SceneSource(_frames, scenes, frames), models, new ManifestPreprocessor(), Production.Postprocessor(), [Sink],
            Microsoft.Extensions.Options.Options.Create(options), new PersistentSequence(_state.Path, options.SequenceReserveBlock),
            new PipelineLedger(), new LatencyStatistics(TimeProvider.System), TimeProvider.System, NullLogger<InspectionPipeline>.Instance, observer);
    }

    public InspectionPipeline Pipeline { get; }

    public FreeRunTrigger Trigger { get; }

    public CollectingSink Sink { get; } = new();

    /// <summary>The scene a frame id names.</summary>
    public static Scene SceneOf(string frameId) => Enum.Parse<Scene>(frameId[(frameId.IndexOf('-', StringComparison.Ordinal) + 1)..]);

    public void Dispose()
    {
        Pipeline.Dispose();
        _frames.Dispose();
        _state.Dispose();
    }

    /// <summary>Free-run triggers (the pipeline asks for one whenever it has room); the correlation is the trigger's number from 1.</summary>
    internal sealed class FreeRunTrigger : ITriggerSource
    {
        private long _emitted;

        public string Name => "test-free-run";

        public TriggerPacing Pacing => TriggerPacing.OnDemand;

        /// <summary>Triggers handed to the pipeline so far.</summary>
        public long Emitted => Interlocked.Read(ref _emitted);

        public async IAsyncEnumerable<TriggerSignal> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Yield();
                long n = Interlocked.Increment(ref _emitted);
                yield return new TriggerSignal(TimeProvider.System.GetUtcNow(), TimeProvider.System.GetTimestamp(), Name, n.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    private sealed class SceneSource(FramePool pool, IReadOnlyList<Scene> scenes, int? limit) : IFrameSource
    {
        private int _captured;

        public string Name => "scenes";

        public ValueTask<Frame> CaptureAsync(TriggerSignal trigger, CancellationToken cancellationToken)
        {
            int n = ++_captured;
            if (n > limit)
            {
                throw new EndOfFramesException($"all {limit} frames were delivered");
            }

            Scene scene = scenes[(n - 1) % scenes.Count];
            return ValueTask.FromResult(ColourScenes.Frame(pool, string.Create(CultureInfo.InvariantCulture, $"{n:D4}-{scene}"), scene));
        }
    }
}
