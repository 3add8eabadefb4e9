namespace EdgeRuntime.Benchmarks;

/// <summary>Entry point of <c>./build.sh bench</c>: exit code 0 after a complete run, 1 when a measurement failed, 2 for a bad command line.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (BenchUsageException ex)
        {
            Console.Error.WriteLine("bench: " + ex.Message);
            Console.Error.WriteLine(BenchOptions.Usage);
            return 2;
        }

        if (options.ShowHelp)
        {
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        }

        using var interrupted = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupted.Cancel();
        };

        try
        {
            if (options.ProfileAllocations)
            {
                await AllocationProfile.RunAsync(options, Console.Out, interrupted.Token).ConfigureAwait(false);
                return 0;
            }

            BenchReport report = await BenchRun.RunAsync(options, Console.Error, interrupted.Token).ConfigureAwait(false);
            report.Print(Console.Out);
            if (options.JsonPath is { } json)
            {
                report.WriteJson(json);
                Console.Out.WriteLine("Figures written to " + Path.GetFullPath(json));
            }

            return 0;
        }
        catch (BenchUsageException ex)
        {
            Console.Error.WriteLine("bench: " + ex.Message);
            return 2;
        }
        catch (BenchmarkException ex)
        {
            Console.Error.WriteLine("bench: " + ex.Message);
            return 1;
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            Console.Error.WriteLine("bench: interrupted");
            return 130;
        }
    }
}
