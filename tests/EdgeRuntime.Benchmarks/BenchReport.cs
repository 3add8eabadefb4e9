using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using EdgeRuntime.Core.Inspection;

namespace EdgeRuntime.Benchmarks;

/// <summary>The small, fast configuration's run: which frames, and what 10,000 (or --frames) of them cost.</summary>
internal sealed record SmallRun(string Model, int Side, int Tiles, Throughput Window);

/// <summary>Everything one run measured; printed for people and written as one JSON object for machines.</summary>
internal sealed class BenchReport
{
    public const double RatioTarget = 0.97;
    public const double AllocationTarget = 1024;
    public const double PreprocessTarget = 2.5;

    public required BenchOptions Options { get; init; }

    public required ModelChoice Model { get; init; }

    public required string ModelIdentity { get; init; }

    public required string Provider { get; init; }

    public required string OnnxRuntimeVersion { get; init; }

    public required int FrameTileWidth { get; init; }

    public required int FrameTileHeight { get; init; }

    public required string LoadBefore { get; init; }

    public string LoadAfter { get; set; } = "unknown";

    public string PublishedTo { get; set; } = "nothing yet";

    public int FrameWidth { get; set; }

    public int FrameHeight { get; set; }

    public int FrameTiles { get; set; }

    /// <summary>The sample model's pipeline alone (measuring sink only, nothing else running in the process).</summary>
    public Throughput? PipelineAllocation { get; set; }

    public List<ThroughputRound> ThroughputRounds { get; } = [];

    public LatencyFigures? Paced { get; set; }

    public double PacedRateHz { get; set; }

    public LatencyFigures? NaiveStages { get; set; }

    public long PreprocessOutputBytes { get; set; }

    public List<PreprocessRound> PreprocessRounds { get; } = [];

    public int TiledSide { get; set; }

    public int TiledTiles { get; set; }

    public List<TiledRound> TiledRounds { get; } = [];

    public SmallRun? SmallAlone { get; set; }

    public SmallRun? SmallWithMqtt { get; set; }

    /// <summary>Distinct real results the outbox section re-sequences and publishes again and again.</summary>
    public int OutboxSampleResults { get; set; }

    /// <summary>Results through <c>MqttResultSink</c> into a durable outbox, fsync Interval (the service's default).</summary>
    public OutboxRun? OutboxAppend { get; set; }

    /// <summary>The same with fsync Always: every record waits for its own fsync.</summary>
    public OutboxRun? OutboxAppendFsyncAlways { get; set; }

    /// <summary>Results through the service's MQTT path until the broker acknowledged all; null with --no-mqtt.</summary>
    public OutboxRun? MqttDelivered { get; set; }

    /// <summary>Messages the MQTT connection published to the broker during the run (0 without MQTT).</summary>
    public long MqttMessagesPublished { get; set; }

    public double TotalSeconds { get; set; }

    /// <summary>
    /// The rounds the headline figures come from: the undisturbed ones when there are at least
    /// <see cref="Rounds.MinimumUndisturbed"/>, else all (and the report says the machine was busy).
    /// </summary>
    public IReadOnlyList<ThroughputRound> CountedRounds
    {
        get
        {
            List<ThroughputRound> quiet = ThroughputRounds.Where(r => !r.Disturbed).ToList();
            return quiet.Count >= Rounds.MinimumUndisturbed ? quiet : ThroughputRounds;
        }
    }

    public bool MachineWasBusy => ThroughputRounds.Count(r => !r.Disturbed) < Rounds.MinimumUndisturbed;

    public double BareFramesPerSecond => Rounds.Median(CountedRounds, r => r.Bare.FramesPerSecond);

    public double PipelineFramesPerSecond => Rounds.Median(CountedRounds, r => r.Pipeline.FramesPerSecond);

    public double NaiveFramesPerSecond => Rounds.Median(CountedRounds, r => r.Naive.FramesPerSecond);

    /// <summary>The median of the rounds' own ratios: each compares two neighbouring measurements, so slow drift cancels.</summary>
    public double PipelineToBareRatio => Rounds.Median(CountedRounds, r => r.PipelineToBare);

    public double PipelineToNaiveRatio => Rounds.Median(CountedRounds, r => r.PipelineToNaive);

    public double PipelineToBareCpuRatio => Rounds.Median(CountedRounds, r => r.PipelineToBareCpu);

    /// <summary>The headline: the sample model's pipeline alone, per frame, in steady state.</summary>
    public double AllocatedBytesPerFrame => PipelineAllocation?.AllocatedBytesPerFrame ?? double.NaN;

    /// <summary>The whole process while the throughput bursts published through MQTT (client, outbox and broker included).</summary>
    public double AllocatedBytesPerFrameWithMqtt => Rounds.AllocatedBytesPerFrame(ThroughputRounds.Select(r => r.Pipeline));

    /// <summary>Share of the machine's cores the benchmark process got during the throughput rounds (the rest went to other work).</summary>
    public double CpuShare
    {
        get
        {
            double cpu = 0;
            double wall = 0;
            foreach (ThroughputRound r in ThroughputRounds)
            {
                cpu += r.Bare.CpuSeconds + r.Pipeline.CpuSeconds + r.Naive.CpuSeconds;
                wall += r.Bare.Seconds + r.Pipeline.Seconds + r.Naive.Seconds;
            }

            return MachineLoad.Share(cpu, wall);
        }
    }

    public double PreprocessMilliseconds => Rounds.Median(PreprocessRounds, r => r.PreprocessMilliseconds);

    public double CopyMilliseconds => Rounds.Median(PreprocessRounds, r => r.CopyMilliseconds);

    public double PreprocessToCopyRatio => Rounds.Median(PreprocessRounds, r => r.Ratio);

    public double TiledPipelineFramesPerSecond => Rounds.Median(TiledRounds, r => r.Pipeline.FramesPerSecond);

    public double TiledBareFramesPerSecond => Rounds.Median(TiledRounds, r => r.BareTiles.FramesPerSecond);

    public double TiledRatio => Rounds.Median(TiledRounds, r => r.Ratio);

    private string ThreadsText => Options.IntraOpThreads == 0
        ? "0 (ONNX Runtime's default: one per physical core)"
        : Options.IntraOpThreads.ToString(CultureInfo.InvariantCulture);

    private string TileText => Invariant($"{FrameTileWidth}x{FrameTileHeight}");

    public void Print(TextWriter w)
    {
        w.WriteLine();
        w.WriteLine("EdgeRuntime benchmark");
        w.WriteLine($"  machine     {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, ONNX Runtime {OnnxRuntimeVersion}");
        w.WriteLine($"  load        load average {LoadBefore} before, {LoadAfter} after; this process got {MachineLoad.Percent(CpuShare)} of the cores in the throughput rounds");
        w.WriteLine($"  model       {ModelIdentity} on {Provider}, from {Model.Origin}");
        w.WriteLine($"  threads     intra-op {ThreadsText}, same for the runtime and the bare session");
        w.WriteLine($"  frames      {FrameWidth}x{FrameHeight} replayed samples, {FrameTiles} tiles of {TileText} per frame");
        w.WriteLine($"  published   {PublishedTo}");
        w.WriteLine($"  rounds      {ThroughputRounds.Count} alternating, {Options.SecondsPerSide.ToString("0.##", CultureInfo.InvariantCulture)} s per side{(Options.Quick ? " (quick)" : string.Empty)}");
        w.WriteLine();
        w.WriteLine("Throughput (frames/s; each round measures all three back to back, the order alternating)");
        w.WriteLine("  round  order                    bare ORT  pipeline     naive  pipeline/bare  pipeline/naive   CPU ms/frame: bare  pipeline   naive   cores used: bare  pipeline");
        foreach (ThroughputRound r in ThroughputRounds)
        {
            w.WriteLine(Invariant($"  {r.Round,4}{(r.Disturbed ? "*" : " ")}  {r.Order,-23}  {r.Bare.FramesPerSecond,8:F2}  {r.Pipeline.FramesPerSecond,8:F2}  {r.Naive.FramesPerSecond,8:F2}  {r.PipelineToBare,13:F3}  {r.PipelineToNaive,14:F3}  {r.Bare.CpuMillisecondsPerFrame,18:F1}  {r.Pipeline.CpuMillisecondsPerFrame,8:F1}  {r.Naive.CpuMillisecondsPerFrame,6:F1}  {r.Bare.CpuShare,16:P0}  {r.Pipeline.CpuShare,8:P0}"));
        }

        w.WriteLine(Invariant($"  median                          {BareFramesPerSecond,8:F2}  {PipelineFramesPerSecond,8:F2}  {NaiveFramesPerSecond,8:F2}  {PipelineToBareRatio,13:F3}  {PipelineToNaiveRatio,14:F3}   (of {CountedRounds.Count} rounds)"));
        w.WriteLine(MachineWasBusy
            ? Invariant($"  Other work took cores in most rounds: the medians are of all rounds, and wall-clock ratios on a busy machine favour the side with more threads. Run again on a quiet machine.")
            : Invariant($"  * = other work took cores from a side (under {Rounds.DisturbedShare:P0} of its best round's share): left out of the medians."));
        w.WriteLine(Invariant($"  CPU time per frame, bare / pipeline: {PipelineToBareCpuRatio:F3} (1 = the pipeline costs the cores no more than bare ONNX Runtime)"));
        w.WriteLine();
        w.WriteLine("Managed allocation in steady state (whole process, GC.GetTotalAllocatedBytes(precise: true), after warm-up)");
        if (PipelineAllocation is { } alone)
        {
            w.WriteLine(Invariant($"  pipeline, sample model     {alone.AllocatedBytesPerFrame,10:F1} B/frame over {alone.Frames} frames (nothing else running); gen0/1/2 {alone.Collections.Gen0}/{alone.Collections.Gen1}/{alone.Collections.Gen2}"));
        }

        PrintSmall(w, "pipeline, small config", SmallAlone);
        GcCounts gc = Rounds.Collections(ThroughputRounds.Select(r => r.Pipeline));
        string bursts = Options.NoMqtt ? "throughput bursts" : "with MQTT, sample model";
        w.WriteLine(Invariant($"  {bursts,-26} {AllocatedBytesPerFrameWithMqtt,10:F1} B/frame over {ThroughputRounds.Sum(r => r.Pipeline.Frames)} frames of the throughput bursts; gen0/1/2 {gc.Gen0}/{gc.Gen1}/{gc.Gen2}"));
        PrintSmall(w, "with MQTT, small config", SmallWithMqtt);
        w.WriteLine(Invariant($"  for comparison             bare ORT Run {Rounds.AllocatedBytesPerFrame(ThroughputRounds.Select(r => r.Bare)):F0} B/frame; naive {Rounds.AllocatedBytesPerFrame(ThroughputRounds.Select(r => r.Naive)):F0} B/frame"));
        w.WriteLine();
        w.WriteLine("Trigger-to-result latency (ms; a stage's time includes the queueing in front of it)");
        PrintLatency(w, "paced", Paced, Invariant($"free-run capped at {PacedRateHz:F2} frames/s (70% of the pipeline's throughput)"));
        PrintLatency(w, "naive", NaiveStages, "service times alone: one frame at a time, nothing queues");
        w.WriteLine();
        w.WriteLine("Preprocessing against the memory-bandwidth floor (one frame, one thread, ms; median of alternating rounds)");
        w.WriteLine(Invariant($"  preprocess {PreprocessMilliseconds:F3}   memory copy of the same {PreprocessOutputBytes / 1048576.0:F2} MiB {CopyMilliseconds:F3}   ratio {PreprocessToCopyRatio:F2}"));
        w.WriteLine();
        w.WriteLine(Invariant($"Tiled {TiledSide}x{TiledSide} ({TiledTiles} tiles of {TileText}; frames/s)"));
        foreach (TiledRound r in TiledRounds)
        {
            w.WriteLine(Invariant($"  pipeline {r.Pipeline.FramesPerSecond:F3} ({r.Pipeline.Frames} frames)   {TiledTiles} bare single-tile runs {r.BareTiles.FramesPerSecond:F3}   ratio {r.Ratio:F3}"));
        }

        w.WriteLine(Invariant($"  median: pipeline {TiledPipelineFramesPerSecond:F3}, bare {TiledBareFramesPerSecond:F3}, ratio {TiledRatio:F3}"));
        w.WriteLine();
        w.WriteLine(Invariant($"Store-and-forward outbox (results/s; {OutboxSampleResults} real results of the model, re-sequenced, JSON through MqttResultSink)"));
        PrintOutbox(w, "append, fsync Interval", OutboxAppend, "the default; ends with an fsync");
        PrintOutbox(w, "append, fsync Always", OutboxAppendFsyncAlways, "an fsync per record");
        PrintOutbox(w, "delivered through MQTT", MqttDelivered, "sink, outbox, connection (QoS 1), embedded broker, until every record is PUBACKed");
        if (MqttDelivered is null)
        {
            w.WriteLine("  delivered through MQTT     not measured (--no-mqtt)");
        }

        w.WriteLine();
        w.WriteLine("Targets");
        foreach (Target target in Targets())
        {
            w.WriteLine($"  {(target.Met ? "met    " : "MISSED ")} {target.Name,-42} {target.Value,-14} (target {target.Goal})");
        }

        w.WriteLine();
        w.WriteLine(Invariant($"Total {TotalSeconds:F0} s; {MqttMessagesPublished} MQTT messages reached the broker."));
    }

    public IReadOnlyList<Target> Targets()
    {
        var targets = new List<Target>
        {
            new("pipeline/bare throughput", Invariant($"{PipelineToBareRatio:F3}"), Invariant($">= {RatioTarget}"), PipelineToBareRatio >= RatioTarget),
            new("B/frame, pipeline, sample model", Invariant($"{AllocatedBytesPerFrame:F0}"), "<= 1 KiB", AllocatedBytesPerFrame <= AllocationTarget),
        };
        AddSmall(targets, "pipeline", SmallAlone);
        if (!Options.NoMqtt)
        {
            targets.Add(new("B/frame with MQTT, sample model", Invariant($"{AllocatedBytesPerFrameWithMqtt:F0}"), "<= 1 KiB", AllocatedBytesPerFrameWithMqtt <= AllocationTarget));
        }

        AddSmall(targets, "with MQTT", SmallWithMqtt);
        targets.Add(new("preprocess / memory copy", Invariant($"{PreprocessToCopyRatio:F2}"), Invariant($"<= {PreprocessTarget}"), PreprocessToCopyRatio <= PreprocessTarget));
        if (Paced is { } paced)
        {
            targets.Add(new("p99 / sum of stage medians (paced)", Invariant($"{paced.P99ToSumOfStageMedians:F2}"), Invariant($"<= {LatencyFigures.TargetFactor}"), paced.MeetsTarget));
        }

        AddOutbox(targets, "outbox append results/s (fsync Interval)", OutboxAppend);
        AddOutbox(targets, "MQTT delivered results/s (PUBACKed)", MqttDelivered);

        return targets;
    }

    public void WriteJson(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("schema", "edge-runtime-bench/1");
        w.WriteString("createdUtc", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        w.WriteNumber("pipelineToBareRatio", Round(PipelineToBareRatio, 4));
        w.WriteNumber("allocatedBytesPerFrame", Round(AllocatedBytesPerFrame, 1));
        w.WriteNumber("allocatedBytesPerFrameWithMqtt", Options.NoMqtt ? -1 : Round(AllocatedBytesPerFrameWithMqtt, 1));
        w.WriteNumber("gen2Collections", SmallAlone?.Window.Collections.Gen2 ?? -1);
        w.WriteNumber("gen2CollectionsWithMqtt", SmallWithMqtt?.Window.Collections.Gen2 ?? -1);
        w.WriteNumber("bareFramesPerSecond", Round(BareFramesPerSecond, 3));
        w.WriteNumber("pipelineFramesPerSecond", Round(PipelineFramesPerSecond, 3));
        w.WriteNumber("naiveFramesPerSecond", Round(NaiveFramesPerSecond, 3));
        w.WriteNumber("pipelineToNaiveRatio", Round(PipelineToNaiveRatio, 4));
        w.WriteNumber("pipelineToBareCpuRatio", Round(PipelineToBareCpuRatio, 4));
        w.WriteNumber("preprocessToCopyRatio", Round(PreprocessToCopyRatio, 3));
        w.WriteNumber("tiledToBareTilesRatio", Round(TiledRatio, 4));
        w.WriteNumber("p99ToSumOfStageMedians", Round(Paced?.P99ToSumOfStageMedians ?? double.NaN, 3));
        w.WriteNumber("outboxAppendResultsPerSecond", Round(OutboxAppend?.ResultsPerSecond ?? double.NaN, 0));
        w.WriteNumber("outboxAppendResultsPerSecondFsyncAlways", Round(OutboxAppendFsyncAlways?.ResultsPerSecond ?? double.NaN, 0));
        w.WriteNumber("mqttDeliveredResultsPerSecond", Round(MqttDelivered?.ResultsPerSecond ?? double.NaN, 0));

        w.WriteStartObject("machine");
        w.WriteNumber("processorCount", Environment.ProcessorCount);
        w.WriteString("os", RuntimeInformation.OSDescription);
        w.WriteString("architecture", RuntimeInformation.ProcessArchitecture.ToString());
        w.WriteString("dotnet", Environment.Version.ToString());
        w.WriteString("onnxRuntime", OnnxRuntimeVersion);
        w.WriteString("loadAverageBefore", LoadBefore);
        w.WriteString("loadAverageAfter", LoadAfter);
        w.WriteNumber("cpuShareDuringThroughput", Round(CpuShare, 3));
        w.WriteEndObject();

        w.WriteStartObject("settings");
        w.WriteString("model", Model.Directory);
        w.WriteString("modelOrigin", Model.Origin);
        w.WriteBoolean("modelIsFallback", Model.IsFallback);
        w.WriteString("modelIdentity", ModelIdentity);
        w.WriteString("executionProvider", Provider);
        w.WriteNumber("intraOpThreads", Options.IntraOpThreads);
        w.WriteNumber("rounds", ThroughputRounds.Count);
        w.WriteNumber("roundsCounted", CountedRounds.Count);
        w.WriteBoolean("machineWasBusy", MachineWasBusy);
        w.WriteNumber("secondsPerSide", Options.SecondsPerSide);
        w.WriteBoolean("quick", Options.Quick);
        w.WriteString("publishedTo", PublishedTo);
        w.WriteNumber("mqttMessagesPublished", MqttMessagesPublished);
        w.WriteString("frame", Invariant($"{FrameWidth}x{FrameHeight}"));
        w.WriteNumber("tilesPerFrame", FrameTiles);
        w.WriteString("tile", TileText);
        w.WriteEndObject();

        w.WriteStartArray("throughputRounds");
        foreach (ThroughputRound r in ThroughputRounds)
        {
            w.WriteStartObject();
            w.WriteNumber("round", r.Round);
            w.WriteString("order", r.Order);
            w.WriteBoolean("disturbed", r.Disturbed);
            WriteThroughput(w, "bare", r.Bare);
            WriteThroughput(w, "pipeline", r.Pipeline);
            WriteThroughput(w, "naive", r.Naive);
            w.WriteNumber("pipelineToBare", Round(r.PipelineToBare, 4));
            w.WriteNumber("pipelineToBareCpu", Round(r.PipelineToBareCpu, 4));
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartObject("allocation");
        if (PipelineAllocation is { } alone)
        {
            WriteThroughput(w, "pipelineSampleModel", alone);
        }

        WriteSmall(w, "pipelineSmallConfig", SmallAlone);
        w.WriteNumber(Options.NoMqtt ? "throughputBurstsBytesPerFrame" : "withMqttSampleModelBytesPerFrame", Round(AllocatedBytesPerFrameWithMqtt, 1));
        WriteCollections(w, Options.NoMqtt ? "throughputBurstsCollections" : "withMqttSampleModelCollections", Rounds.Collections(ThroughputRounds.Select(r => r.Pipeline)));
        WriteSmall(w, "withMqttSmallConfig", SmallWithMqtt);
        w.WriteNumber("bareBytesPerFrame", Round(Rounds.AllocatedBytesPerFrame(ThroughputRounds.Select(r => r.Bare)), 1));
        w.WriteNumber("naiveBytesPerFrame", Round(Rounds.AllocatedBytesPerFrame(ThroughputRounds.Select(r => r.Naive)), 1));
        w.WriteEndObject();

        w.WriteStartObject("latency");
        WriteLatency(w, "paced", Paced);
        w.WriteNumber("pacedRateHz", Round(PacedRateHz, 3));
        WriteLatency(w, "naiveServiceTimes", NaiveStages);
        w.WriteEndObject();

        w.WriteStartObject("preprocess");
        w.WriteNumber("outputBytes", PreprocessOutputBytes);
        w.WriteNumber("preprocessMilliseconds", Round(PreprocessMilliseconds, 4));
        w.WriteNumber("memoryCopyMilliseconds", Round(CopyMilliseconds, 4));
        w.WriteNumber("ratio", Round(PreprocessToCopyRatio, 3));
        w.WriteNumber("rounds", PreprocessRounds.Count);
        w.WriteEndObject();

        w.WriteStartObject("tiled");
        w.WriteString("frame", Invariant($"{TiledSide}x{TiledSide}"));
        w.WriteNumber("tiles", TiledTiles);
        w.WriteNumber("pipelineFramesPerSecond", Round(TiledPipelineFramesPerSecond, 4));
        w.WriteNumber("bareTileRunsFramesPerSecond", Round(TiledBareFramesPerSecond, 4));
        w.WriteNumber("ratio", Round(TiledRatio, 4));
        w.WriteNumber("rounds", TiledRounds.Count);
        w.WriteEndObject();

        w.WriteStartObject("outbox");
        w.WriteNumber("sampleResults", OutboxSampleResults);
        WriteOutbox(w, "appendFsyncInterval", OutboxAppend);
        WriteOutbox(w, "appendFsyncAlways", OutboxAppendFsyncAlways);
        WriteOutbox(w, "mqttDelivered", MqttDelivered);
        w.WriteEndObject();

        w.WriteStartArray("targets");
        foreach (Target target in Targets())
        {
            w.WriteStartObject();
            w.WriteString("name", target.Name);
            w.WriteString("value", target.Value);
            w.WriteString("target", target.Goal);
            w.WriteBoolean("met", target.Met);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNumber("totalSeconds", Round(TotalSeconds, 1));
        w.WriteEndObject();
    }

    private static void AddSmall(List<Target> targets, string label, SmallRun? small)
    {
        if (small is null)
        {
            return;
        }

        Throughput window = small.Window;
        targets.Add(new($"B/frame, {label}, small config", Invariant($"{window.AllocatedBytesPerFrame:F0}"), "<= 1 KiB", window.AllocatedBytesPerFrame <= AllocationTarget));
        targets.Add(new(Invariant($"gen-2 collections in {window.Frames} frames, {label}"), Invariant($"{window.Collections.Gen2}"),
            window.Frames >= 10_000 ? "0" : "0 (< 10,000 frames)", window.Collections.Gen2 == 0));
    }

    private static void AddOutbox(List<Target> targets, string name, OutboxRun? run)
    {
        if (run is null)
        {
            return;
        }

        targets.Add(new(name, Invariant($"{run.ResultsPerSecond:F0}"), Invariant($">= {OutboxThroughput.Target:F0}"), run.MeetsTarget));
    }

    private static void PrintOutbox(TextWriter w, string label, OutboxRun? run, string what)
    {
        if (run is null)
        {
            return;
        }

        Throughput t = run.Window;
        w.WriteLine(Invariant($"  {label,-26} {run.ResultsPerSecond,10:F0} results/s: {t.Frames} results in {t.Seconds:F2} s ({what}); {run.BytesPerRecord:F0} B/record, {t.CpuMillisecondsPerFrame * 1000:F0} CPU ms per 1,000"));
    }

    private static void WriteOutbox(Utf8JsonWriter w, string name, OutboxRun? run)
    {
        if (run is null)
        {
            return;
        }

        w.WriteStartObject(name);
        w.WriteNumber("results", run.Window.Frames);
        w.WriteNumber("seconds", Round(run.Window.Seconds, 3));
        w.WriteNumber("resultsPerSecond", Round(run.ResultsPerSecond, 1));
        w.WriteNumber("bytesPerRecord", Round(run.BytesPerRecord, 1));
        w.WriteNumber("cpuMillisecondsPerResult", Round(run.Window.CpuMillisecondsPerFrame, 4));
        w.WriteNumber("allocatedBytesPerResult", Round(run.Window.AllocatedBytesPerFrame, 1));
        w.WriteBoolean("meetsTarget", run.MeetsTarget);
        w.WriteEndObject();
    }

    private static void PrintSmall(TextWriter w, string label, SmallRun? small)
    {
        if (small is null)
        {
            return;
        }

        Throughput t = small.Window;
        w.WriteLine(Invariant($"  {label,-26} {t.AllocatedBytesPerFrame,10:F1} B/frame over {t.Frames} frames ({small.Side}x{small.Side}, {small.Tiles} tiles of the tiny model, {t.FramesPerSecond:F0} frames/s); gen0/1/2 {t.Collections.Gen0}/{t.Collections.Gen1}/{t.Collections.Gen2}"));
    }

    private static void PrintLatency(TextWriter w, string label, LatencyFigures? figures, string what)
    {
        if (figures is null)
        {
            return;
        }

        w.WriteLine(Invariant($"  {label,-10} {what}; {figures.Count} results"));
        w.WriteLine(Invariant($"             p50 {figures.P50Milliseconds:F1}  p99 {figures.P99Milliseconds:F1}  max {figures.MaxMilliseconds:F1}   sum of stage medians {figures.SumOfStageMedians:F1}   p99/sum {figures.P99ToSumOfStageMedians:F2}"));
        var stages = new List<string>();
        for (int s = 0; s < figures.StageMedianMilliseconds.Length; s++)
        {
            stages.Add(Invariant($"{StageName(s)} {figures.StageMedianMilliseconds[s]:F1} ({figures.StageMeanShares[s]:P0})"));
        }

        w.WriteLine("             stage medians (share of the time): " + string.Join(", ", stages));
    }

    private static void WriteSmall(Utf8JsonWriter w, string name, SmallRun? small)
    {
        if (small is null)
        {
            return;
        }

        w.WriteStartObject(name);
        w.WriteString("model", small.Model);
        w.WriteString("frame", Invariant($"{small.Side}x{small.Side}"));
        w.WriteNumber("tilesPerFrame", small.Tiles);
        w.WriteNumber("frames", small.Window.Frames);
        w.WriteNumber("seconds", Round(small.Window.Seconds, 2));
        w.WriteNumber("framesPerSecond", Round(small.Window.FramesPerSecond, 1));
        w.WriteNumber("bytesPerFrame", Round(small.Window.AllocatedBytesPerFrame, 1));
        WriteCollections(w, "collections", small.Window.Collections);
        w.WriteEndObject();
    }

    private static void WriteThroughput(Utf8JsonWriter w, string name, Throughput t)
    {
        w.WriteStartObject(name);
        w.WriteNumber("frames", t.Frames);
        w.WriteNumber("seconds", Round(t.Seconds, 3));
        w.WriteNumber("framesPerSecond", Round(t.FramesPerSecond, 3));
        w.WriteNumber("cpuMillisecondsPerFrame", Round(t.CpuMillisecondsPerFrame, 3));
        w.WriteNumber("cpuShare", Round(t.CpuShare, 3));
        w.WriteNumber("allocatedBytesPerFrame", Round(t.AllocatedBytesPerFrame, 1));
        WriteCollections(w, "collections", t.Collections);
        w.WriteEndObject();
    }

    private static void WriteCollections(Utf8JsonWriter w, string name, GcCounts counts)
    {
        w.WriteStartObject(name);
        w.WriteNumber("gen0", counts.Gen0);
        w.WriteNumber("gen1", counts.Gen1);
        w.WriteNumber("gen2", counts.Gen2);
        w.WriteEndObject();
    }

    private static void WriteLatency(Utf8JsonWriter w, string name, LatencyFigures? figures)
    {
        if (figures is null)
        {
            return;
        }

        w.WriteStartObject(name);
        w.WriteNumber("count", figures.Count);
        w.WriteNumber("p50Milliseconds", Round(figures.P50Milliseconds, 3));
        w.WriteNumber("p99Milliseconds", Round(figures.P99Milliseconds, 3));
        w.WriteNumber("maxMilliseconds", Round(figures.MaxMilliseconds, 3));
        w.WriteNumber("sumOfStageMediansMilliseconds", Round(figures.SumOfStageMedians, 3));
        w.WriteNumber("p99ToSumOfStageMedians", Round(figures.P99ToSumOfStageMedians, 3));
        w.WriteBoolean("meetsTarget", figures.MeetsTarget);
        w.WriteStartObject("stageMedianMilliseconds");
        for (int s = 0; s < figures.StageMedianMilliseconds.Length; s++)
        {
            w.WriteNumber(StageName(s), Round(figures.StageMedianMilliseconds[s], 3));
        }

        w.WriteEndObject();
        w.WriteStartObject("stageShares");
        for (int s = 0; s < figures.StageMeanShares.Length; s++)
        {
            w.WriteNumber(StageName(s), Round(figures.StageMeanShares[s], 4));
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string StageName(int stage) => ((PipelineStage)stage) switch
    {
        PipelineStage.Capture => "capture",
        PipelineStage.Preprocess => "preprocess",
        PipelineStage.Inference => "inference",
        PipelineStage.Postprocess => "postprocess",
        PipelineStage.Publish => "publish",
        _ => "stage" + stage.ToString(CultureInfo.InvariantCulture),
    };

    // JSON has no NaN: a figure that could not be measured is written as -1.
    private static double Round(double value, int digits) => double.IsFinite(value) ? Math.Round(value, digits) : -1;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One of the issue's targets and whether this run met it.</summary>
internal sealed record Target(string Name, string Value, string Goal, bool Met);
