using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Options;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Core.Pipeline;

/// <summary>What a full queue does with the next item.</summary>
public enum OverloadPolicy
{
    /// <summary>Drop the oldest waiting item to make room: the freshest frame wins (inspection lines usually want this).</summary>
    DropOldest,

    /// <summary>Refuse the new item: what is already queued wins.</summary>
    DropNewest,

    /// <summary>Make the upstream stage wait; the trigger queue's own policy decides what happens to triggers then.</summary>
    Block,
}

/// <summary>One bounded queue between two stages.</summary>
public sealed class QueueOptions
{
    /// <summary>Items the queue holds.</summary>
    public int Capacity { get; set; } = 2;

    /// <summary>What a full queue does.</summary>
    public OverloadPolicy Policy { get; set; } = OverloadPolicy.DropOldest;
}

/// <summary>The <c>Pipeline</c> section: queues, deadline and fail-safe, state directory.</summary>
public sealed class PipelineOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Pipeline";

    /// <summary>
    /// Milliseconds from trigger to the latest useful verdict (the part reaches the reject station).
    /// A trigger without a verdict by then gets <see cref="FailSafeVerdict"/>.
    /// </summary>
    public int DeadlineMs { get; set; } = 2000;

    /// <summary>Verdict for a trigger that missed its deadline, was dropped or failed. FAIL rejects the part rather than shipping it unseen.</summary>
    public Verdict FailSafeVerdict { get; set; } = Verdict.Fail;

    /// <summary>Frames in flight at most (captured and not yet published); bounds the pipeline's memory.</summary>
    public int MaxInFlight { get; set; } = 8;

    /// <summary>Triggers waiting for capture.</summary>
    public QueueOptions TriggerQueue { get; set; } = new() { Capacity = 4, Policy = OverloadPolicy.DropNewest };

    /// <summary>Frames waiting for preprocessing.</summary>
    public QueueOptions PreprocessQueue { get; set; } = new();

    /// <summary>Tensors waiting for inference.</summary>
    public QueueOptions InferenceQueue { get; set; } = new();

    /// <summary>Model outputs waiting for postprocessing.</summary>
    public QueueOptions PostprocessQueue { get; set; } = new() { Policy = OverloadPolicy.Block };

    /// <summary>Fail-safe verdicts waiting to be published (drops can come in storms).</summary>
    public int FailSafeBacklog { get; set; } = 4096;

    /// <summary>Where the service keeps state that must survive restarts (sequence numbers, caches).</summary>
    public string StateDirectory { get; set; } = "/var/lib/edge-runtime";

    /// <summary>How many sequence numbers are reserved on disk at a time; a crash skips at most this many.</summary>
    public int SequenceReserveBlock { get; set; } = 64;

    /// <summary>Seconds the service may take to flush in-flight frames on shutdown.</summary>
    public int DrainTimeoutSeconds { get; set; } = 10;
}

/// <summary>Validates <see cref="PipelineOptions"/> at start-up.</summary>
public sealed class PipelineOptionsValidator : IValidateOptions<PipelineOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(PipelineOptions.SectionName);
        problems.InRange(options.DeadlineMs, nameof(options.DeadlineMs), 1, 600_000, " milliseconds");
        problems.Defined(options.FailSafeVerdict, nameof(options.FailSafeVerdict));
        problems.InRange(options.MaxInFlight, nameof(options.MaxInFlight), 1, 1024);
        CheckQueue(problems, options.TriggerQueue, nameof(options.TriggerQueue));
        CheckQueue(problems, options.PreprocessQueue, nameof(options.PreprocessQueue));
        CheckQueue(problems, options.InferenceQueue, nameof(options.InferenceQueue));
        CheckQueue(problems, options.PostprocessQueue, nameof(options.PostprocessQueue));
        problems.InRange(options.FailSafeBacklog, nameof(options.FailSafeBacklog), 16, 1_000_000);
        problems.NotEmpty(options.StateDirectory, nameof(options.StateDirectory), "a directory path");
        problems.InRange(options.SequenceReserveBlock, nameof(options.SequenceReserveBlock), 1, 1_000_000);
        problems.InRange(options.DrainTimeoutSeconds, nameof(options.DrainTimeoutSeconds), 0, 600, " seconds");
        return problems.ToResult();
    }

    private static void CheckQueue(OptionsProblems problems, QueueOptions? queue, string key)
    {
        if (queue is null)
        {
            problems.Add(key, null, "must be an object with Capacity and Policy");
            return;
        }

        problems.InRange(queue.Capacity, key + ":Capacity", 1, 1024);
        problems.Defined(queue.Policy, key + ":Policy");
    }
}
