using System.Diagnostics;
using System.Text.Json;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Messaging.Commands;
using EdgeRuntime.Messaging.Connection;
using EdgeRuntime.Messaging.Outbox;

namespace EdgeRuntime.Messaging.Health;

/// <summary>
/// Writes the <c>health</c> payload (schema 1, see TOPICS.md): state, books, queues, latency, model, outbox, connection,
/// process, disk and, where the board exposes them (<see cref="BoardSensors"/>), thermal zones, GPU load and throttling. A
/// field whose source is absent is left out, never invented. Called from the connection service's health loop only; not
/// thread-safe (keeps the CPU sample and the board's readings).
/// </summary>
public sealed class HealthReporter
{
    /// <summary>Free space below which health reports <c>degraded</c> (disk-low).</summary>
    public const long DiskLowBytes = 256L * 1024 * 1024;

    private static readonly string[] s_stageNames = Enum.GetNames<PipelineStage>().Select(JsonNamingPolicy.CamelCase.ConvertName).ToArray();

    private readonly PipelineLedger _ledger;
    private readonly LatencyStatistics _statistics;
    private readonly IPipelineProbe? _pipeline;
    private readonly IModelStatusSource? _models;
    private readonly DurableOutbox _outbox;
    private readonly MqttConnectionState _connection;
    private readonly TimeProvider _time;
    private readonly BoardSensors _board;
    private readonly long _started;
    private TimeSpan _lastCpu;
    private long _lastCpuAt;

    /// <param name="ledger">The pipeline's books.</param>
    /// <param name="statistics">Recent latencies.</param>
    /// <param name="pipeline">Queue depths; null when the pipeline is not running in this process.</param>
    /// <param name="models">Model state; null when unknown.</param>
    /// <param name="outbox">The outbox.</param>
    /// <param name="connection">The connection's state.</param>
    /// <param name="timeProvider">Clock.</param>
    /// <param name="sysRoot">Root of the sysfs tree the board's sensors are read from (<c>/sys</c>; tests point it at a folder of fake files).</param>
    public HealthReporter(PipelineLedger ledger, LatencyStatistics statistics, IPipelineProbe? pipeline, IModelStatusSource? models,
        DurableOutbox outbox, MqttConnectionState connection, TimeProvider timeProvider, string sysRoot = "/sys")
    {
        _ledger = ledger;
        _statistics = statistics;
        _pipeline = pipeline;
        _models = models;
        _outbox = outbox;
        _connection = connection;
        _time = timeProvider;
        _board = new BoardSensors(sysRoot);
        _started = timeProvider.GetTimestamp();
        _lastCpu = Process.GetCurrentProcess().TotalProcessorTime;
        _lastCpuAt = _started;
    }

    /// <summary>Writes one health payload.</summary>
    public void Write(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        long now = _time.GetTimestamp();
        LedgerSnapshot books = _ledger.Snapshot();
        LatencySummary latency = _statistics.Summarize();
        ModelStatusReport? model = _models?.Current;
        OutboxStatus outbox = _outbox.Status;
        QueueDepths? depths = _pipeline?.Depths;
        long? diskFree = DiskFree();
        _board.Sample();
        var problems = new List<string>();

        writer.WriteStartObject();
        writer.WriteNumber("schema", 1);
        writer.WriteString("utc", _time.GetUtcNow());
        writer.WriteNumber("uptimeSeconds", Math.Round(_time.GetElapsedTime(_started, now).TotalSeconds, 1));

        string state = State(model, outbox, diskFree, books, problems);
        writer.WriteString("state", state);
        writer.WriteStartArray("problems");
        foreach (string problem in problems)
        {
            writer.WriteStringValue(problem);
        }

        writer.WriteEndArray();

        writer.WriteStartObject("books");
        writer.WriteNumber("triggers", books.Triggers);
        writer.WriteNumber("passed", books.Passed);
        writer.WriteNumber("failed", books.Failed);
        writer.WriteNumber("deadlineMissed", books.DeadlineMissed);
        writer.WriteNumber("dropped", books.Dropped);
        writer.WriteStartObject("dropsByReason");
        DropReason[] reasons = Enum.GetValues<DropReason>();
        for (int i = 0; i < reasons.Length; i++)
        {
            if (books.DropsByReason[i] > 0)
            {
                writer.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(reasons[i].ToString()), books.DropsByReason[i]);
            }
        }

        writer.WriteEndObject();
        writer.WriteNumber("lateResults", books.LateResults);
        writer.WriteNumber("failSafeOverflow", books.FailSafeOverflow);
        writer.WriteNumber("inFlight", books.InFlight);
        writer.WriteBoolean("balanced", books.Balances(depths));
        writer.WriteEndObject();

        if (depths is { } d)
        {
            writer.WriteStartObject("queues");
            writer.WriteNumber("trigger", d.Trigger);
            writer.WriteNumber("preprocess", d.Preprocess);
            writer.WriteNumber("inference", d.Inference);
            writer.WriteNumber("postprocess", d.Postprocess);
            writer.WriteNumber("publish", d.Publish);
            writer.WriteNumber("framesInFlight", d.InFlight);
            writer.WriteEndObject();
            writer.WriteBoolean("sourceEnded", _pipeline!.SourceEnded);
        }

        writer.WriteStartObject("latency");
        writer.WriteNumber("window", latency.Count);
        writer.WriteNumber("fps", Math.Round(latency.FramesPerSecond, 2));
        writer.WriteNumber("p50Ms", Math.Round(latency.P50Milliseconds, 3));
        writer.WriteNumber("p99Ms", Math.Round(latency.P99Milliseconds, 3));
        writer.WriteNumber("maxMs", Math.Round(latency.MaxMilliseconds, 3));
        writer.WriteStartObject("stageP50Ms");
        for (int s = 0; s < latency.StageMedianMilliseconds.Count && s < s_stageNames.Length; s++)
        {
            writer.WriteNumber(s_stageNames[s], Math.Round(latency.StageMedianMilliseconds[s], 3));
        }

        writer.WriteEndObject();
        writer.WriteEndObject();

        if (model is not null)
        {
            writer.WriteStartObject("model");
            CommandProcessor.WriteModelStatus(writer, model);
            writer.WriteEndObject();
        }

        writer.WriteStartObject("outbox");
        writer.WriteNumber("pending", outbox.Pending);
        writer.WriteNumber("oldestPendingAgeSeconds", Math.Round(outbox.OldestPendingAge.TotalSeconds, 1));
        writer.WriteNumber("bytes", outbox.Bytes);
        writer.WriteNumber("segments", outbox.Segments);
        writer.WriteNumber("appended", outbox.Appended);
        writer.WriteNumber("acknowledged", outbox.Acknowledged);
        writer.WriteNumber("droppedUnsent", outbox.DroppedUnsent);
        writer.WriteNumber("lost", outbox.Lost);
        writer.WriteNumber("corruptOnOpen", outbox.CorruptOnOpen);
        if (outbox.Degraded is { } degraded)
        {
            writer.WriteString("degraded", degraded);
        }

        writer.WriteEndObject();

        var connection = _connection.Snapshot();
        writer.WriteStartObject("mqtt");
        writer.WriteBoolean("connected", connection.Connected);
        writer.WriteString("protocol", connection.Protocol);
        writer.WriteNumber("connects", _connection.Connects);
        writer.WriteNumber("published", _connection.Published);
        writer.WriteNumber("rejected", _connection.Rejected);
        writer.WriteNumber("commands", _connection.Commands);
        if (connection.LastError is { } lastError)
        {
            // Why the last connect attempt or session failed (refused certificate, bad password, broker gone).
            writer.WriteString("lastError", lastError);
        }

        writer.WriteEndObject();

        WriteProcess(writer, now);
        if (diskFree is { } free)
        {
            writer.WriteStartObject("disk");
            writer.WriteNumber("freeBytes", free);
            writer.WriteEndObject();
        }

        _board.Write(writer);
        writer.WriteEndObject();
    }

    private string State(ModelStatusReport? model, OutboxStatus outbox, long? diskFree, LedgerSnapshot books, List<string> problems)
    {
        if (outbox.Degraded is { } degraded)
        {
            problems.Add("outbox: " + degraded);
        }

        if (outbox.DroppedUnsent > 0)
        {
            problems.Add($"outbox: {outbox.DroppedUnsent} unsent record(s) dropped by its limits");
        }

        if (diskFree is { } free && free < DiskLowBytes)
        {
            problems.Add($"disk-low: {free / (1024 * 1024)} MiB free");
        }

        if (books.InFlight < 0)
        {
            problems.Add("books do not balance");
        }

        // Thermal throttling is a problem like the others: the device still inspects, slower (state degraded).
        _board.AddProblems(problems);

        if (model is { Phase: "failed" })
        {
            problems.Add("model: " + model.Message);
            return "error";
        }

        if (model is { Phase: "degraded" })
        {
            // The model serves, but an alarm stands (a periodic golden check disagreed); the message says why.
            problems.Add("model: " + model.Message);
        }

        if (model is { Phase: "not-loaded" or "loading" })
        {
            return "starting";
        }

        if (model is { Phase: "warming" })
        {
            return "warming";
        }

        return problems.Count > 0 ? "degraded" : "ready";
    }

    /// <summary>The process's share of all cores since the previous health, its memory and threads.</summary>
    private void WriteProcess(Utf8JsonWriter writer, long now)
    {
        using var process = Process.GetCurrentProcess();
        TimeSpan cpu = process.TotalProcessorTime;
        double wall = _time.GetElapsedTime(_lastCpuAt, now).TotalSeconds;
        writer.WriteStartObject("process");
        if (wall > 0)
        {
            writer.WriteNumber("cpuPercent", Math.Round((cpu - _lastCpu).TotalSeconds / wall / Environment.ProcessorCount * 100, 1));
        }

        _lastCpu = cpu;
        _lastCpuAt = now;
        writer.WriteNumber("workingSetBytes", process.WorkingSet64);
        writer.WriteNumber("managedHeapBytes", GC.GetTotalMemory(forceFullCollection: false));
        writer.WriteNumber("threads", process.Threads.Count);
        writer.WriteEndObject();
    }

    private long? DiskFree()
    {
        try
        {
            return new DriveInfo(_outbox.Directory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // No answer from the file system: leave the field out rather than report a guess.
            return null;
        }
    }
}
