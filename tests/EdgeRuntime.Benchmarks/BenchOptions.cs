using System.Globalization;

namespace EdgeRuntime.Benchmarks;

/// <summary>The command line of <c>./build.sh bench</c>, with the durations every phase derives from.</summary>
internal sealed class BenchOptions
{
    public const string Usage = """
        Usage: ./build.sh bench [OPTIONS]

          --model DIR     model package to measure (default: the first of models/packages/defect-unet-pruned-int8,
                          defect-unet-pruned-fp32, defect-unet-fp32; else the tiny test model)
          --frames N      frames of the small-configuration run that counts allocations and gen-2 collections (default 10000)
          --seconds S     measured seconds per side in each throughput round (default 2)
          --rounds R      alternating throughput rounds (default 9)
          --threads T     ONNX Runtime intra-op threads for the runtime and the bare session alike (default 0: ONNX Runtime's own choice)
          --quick         a smoke run of a few seconds per phase (CI): same phases, short windows, few frames
          --json FILE     also write the figures as one JSON object to FILE
          --no-mqtt       publish to a null sink instead of the service's MQTT path (outbox, connection, embedded
                          broker), to tell the pipeline's own figures from MQTT's
          --allocations   instead of the benchmark: which types the pipeline allocates per frame, sampled by the
                          runtime's AllocationTick event (small configuration, then the model's frames)
          -h, --help      this text
        """;

    public string? ModelDirectory { get; private set; }

    public int SmallFrames { get; private set; } = 10_000;

    public double SecondsPerSide { get; private set; } = 2;

    public int Rounds { get; private set; } = 9;

    public int IntraOpThreads { get; private set; }

    public bool Quick { get; private set; }

    public string? JsonPath { get; private set; }

    public bool ShowHelp { get; private set; }

    public bool ProfileAllocations { get; private set; }

    public bool NoMqtt { get; private set; }

    /// <summary>Frames the paced run lets pass before its window opens (a paced run uses one or two jobs, already jitted code).</summary>
    public int PacedWarmupFrames => Quick ? 1 : 2;

    /// <summary>Frames of the sample model's pipeline-only allocation window.</summary>
    public int AllocationFrames => Quick ? 4 : 16;

    /// <summary>Alternating rounds of the preprocessing-vs-copy comparison, and seconds per side in each.</summary>
    public int PreprocessRounds => Quick ? 3 : 15;

    public double PreprocessSecondsPerSide => Quick ? 0.05 : 0.25;

    /// <summary>Seconds of the paced-latency window, and the least results it covers.</summary>
    public double LatencySeconds => Quick ? 1 : Math.Max(10, SecondsPerSide * 3);

    public int PacedMinimumFrames => Quick ? 3 : 10;

    /// <summary>Alternating rounds of the tiled comparison, and the frames each side measures per round.</summary>
    public int TiledRounds => Quick ? 1 : 4;

    public int TiledFramesPerSide => Quick ? 1 : 2;

    /// <summary>Frames the small configuration runs before counting starts.</summary>
    public int SmallWarmupFrames => Quick ? 50 : 500;

    /// <summary>Frames of the sample model whose results the outbox section publishes again and again (re-sequenced).</summary>
    public int OutboxSampleFrames => Quick ? 3 : 12;

    /// <summary>Results appended through the sink with fsync Interval (the default: about half a second's worth); with fsync Always, each waits for its own fsync.</summary>
    public int OutboxAppendResults => Quick ? 2_000 : 100_000;

    public int OutboxAlwaysResults => Quick ? 100 : 500;

    /// <summary>Results sent end to end through the MQTT path (sink, outbox, connection, embedded broker) until all are acknowledged.</summary>
    public int MqttDeliveredResults => Quick ? 2_000 : 20_000;

    /// <summary>Parses the arguments; a bad one throws <see cref="BenchUsageException"/> naming it and what is allowed.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        bool framesGiven = false;
        bool secondsGiven = false;
        bool roundsGiven = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--model":
                    options.ModelDirectory = Value(args, ref i);
                    break;
                case "--frames":
                    options.SmallFrames = Integer(args, ref i, 10, 10_000_000);
                    framesGiven = true;
                    break;
                case "--seconds":
                    options.SecondsPerSide = Number(args, ref i, 0.1, 600);
                    secondsGiven = true;
                    break;
                case "--rounds":
                    options.Rounds = Integer(args, ref i, 1, 1000);
                    roundsGiven = true;
                    break;
                case "--threads":
                    options.IntraOpThreads = Integer(args, ref i, 0, 1024);
                    break;
                case "--quick":
                    options.Quick = true;
                    break;
                case "--json":
                    options.JsonPath = Value(args, ref i);
                    break;
                case "--no-mqtt":
                    options.NoMqtt = true;
                    break;
                case "--allocations":
                    options.ProfileAllocations = true;
                    break;
                case "-h" or "--help":
                    options.ShowHelp = true;
                    break;
                default:
                    throw new BenchUsageException($"unknown argument \"{arg}\"");
            }
        }

        if (options.Quick)
        {
            // Explicit values win over the quick defaults.
            options.SmallFrames = framesGiven ? options.SmallFrames : 300;
            options.SecondsPerSide = secondsGiven ? options.SecondsPerSide : 0.5;
            options.Rounds = roundsGiven ? options.Rounds : 2;
        }

        return options;
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        string name = args[i];
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new BenchUsageException($"{name} needs a value");
        }

        return args[++i];
    }

    private static int Integer(IReadOnlyList<string> args, ref int i, int min, int max)
    {
        string name = args[i];
        string text = Value(args, ref i);
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new BenchUsageException($"{name} is \"{text}\"; it must be a whole number from {min} to {max}");
        }

        return value;
    }

    private static double Number(IReadOnlyList<string> args, ref int i, double min, double max)
    {
        string name = args[i];
        string text = Value(args, ref i);
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value < min || value > max)
        {
            throw new BenchUsageException($"{name} is \"{text}\"; it must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
        }

        return value;
    }
}

/// <summary>The command line is wrong; the message says which argument and what is allowed.</summary>
internal sealed class BenchUsageException(string message) : Exception(message);

/// <summary>A measurement could not be taken (a missing asset, a pipeline that stopped); the message says which and why.</summary>
internal sealed class BenchmarkException : Exception
{
    public BenchmarkException(string message)
        : base(message)
    {
    }

    public BenchmarkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
