using Microsoft.Extensions.Logging;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// Writes the runtime's warnings and errors to standard error, one line each, so a frame that fails or a provider that
/// is skipped shows up beside the figures; lower levels are dropped so logging costs nothing inside the windows.
/// </summary>
internal sealed class StderrLoggerFactory(LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName[(categoryName.LastIndexOf('.') + 1)..], minimum);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("the benchmark logs to standard error only");

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            Console.Error.WriteLine($"  [{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? string.Empty : " (" + exception.GetType().Name + ": " + exception.Message + ")")}");
        }
    }
}
