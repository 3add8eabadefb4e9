using System.Collections.Concurrent;
using System.Threading.Channels;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Inspection;
using EdgeRuntime.Core.Sinks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace EdgeRuntime.Archive;

/// <summary>
/// Archives FAIL frames, and a random sample of PASS frames (<see cref="ArchiveOptions.PassSampleRate"/>), as PNG
/// files with a JSON sidecar (sequence, frame id, verdict, status, defects with class names, boxes, areas and scores,
/// model identity, trigger time, latencies) in <see cref="ArchiveOptions.Directory"/>, under
/// <see cref="ArchiveOptions.QuotaMegabytes"/> with the oldest entries deleted first. Files are named by sequence
/// number (<c>000000000042-fail.png</c> + <c>.json</c>).
/// </summary>
/// <remarks>
/// <para><see cref="PublishAsync"/> only copies the frame into a recycled buffer and queues it; encoding and disk I/O
/// happen on the sink's own writer task. The queue holds <see cref="ArchiveOptions.QueueCapacity"/> frames; when it is
/// full the oldest waiting frame is dropped and counted, because the newest failures are the most useful ones.</para>
/// <para>A frame that cannot be written (disk full, I/O error) is counted and logged and the archive carries on:
/// archiving is evidence, not control, and must not stop the line.</para>
/// <para>Threading: <see cref="PublishAsync"/> is called by the publish stage, one call at a time; counters may be read
/// from any thread. Dispose the sink to flush the queue and stop the writer.</para>
/// </remarks>
public sealed partial class ImageArchiveSink : IResultSink, IAsyncDisposable, IDisposable
{
    private readonly ArchiveOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _sampler;
    private readonly ArchiveStore? _store;
    private readonly Channel<ArchiveItem>? _queue;
    private readonly ConcurrentQueue<ArchiveItem> _free = new();
    private readonly Func<CancellationToken, ValueTask>? _beforeWrite;
    private readonly Task _writer = Task.CompletedTask;
    private long _queued;
    private long _written;
    private long _dropped;
    private long _failed;
    private long _tooLarge;
    private int _disposed;

    /// <summary>Opens the archive folder (creating it) and starts the writer.</summary>
    /// <param name="options">The <c>Archive</c> section.</param>
    /// <param name="timeProvider">Clock for the sidecar's archive time.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="sampler">Random source that picks the sampled PASS frames (seed it for reproducible runs); a fresh one when null.</param>
    /// <exception cref="InvalidOperationException">The archive folder cannot be created or read (the message names it).</exception>
    public ImageArchiveSink(IOptions<ArchiveOptions> options, TimeProvider timeProvider, ILogger<ImageArchiveSink> logger, Random? sampler = null)
        : this(options, timeProvider, logger, sampler, beforeWrite: null)
    {
    }

    // beforeWrite is a test seam: the writer awaits it before each entry, so a test can hold the writer busy.
    internal ImageArchiveSink(
        IOptions<ArchiveOptions> options,
        TimeProvider timeProvider,
        ILogger<ImageArchiveSink> logger,
        Random? sampler,
        Func<CancellationToken, ValueTask>? beforeWrite)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _time = timeProvider;
        _logger = logger;
        _sampler = sampler ?? new Random();
        _beforeWrite = beforeWrite;
        if (!_options.Enabled)
        {
            Log.Disabled(logger);
            return;
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.QueueCapacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.QuotaMegabytes);
        try
        {
            _store = ArchiveStore.Open(_options.Directory, _options.QuotaMegabytes * 1024L * 1024L, out int stale);
            Log.Opened(logger, _options.Directory, _store.Count, _store.UsedBytes, _options.QuotaMegabytes, stale);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{ArchiveOptions.SectionName}:{nameof(ArchiveOptions.Directory)} = \"{_options.Directory}\": the archive folder cannot be created or read: {ex.Message}", ex);
        }

        _queue = Channel.CreateBounded<ArchiveItem>(
            new BoundedChannelOptions(_options.QueueCapacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
                SingleWriter = true,
            },
            OnDropped);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <inheritdoc />
    public string Name => "archive";

    /// <summary>Counts so far.</summary>
    public ArchiveCounters Counters => new(
        Interlocked.Read(ref _queued),
        Interlocked.Read(ref _written),
        Interlocked.Read(ref _dropped),
        Interlocked.Read(ref _failed) + Interlocked.Read(ref _tooLarge),
        _store?.Deleted ?? 0,
        _store?.UsedBytes ?? 0);

    /// <summary>Queues the frame of a FAIL result, or of a sampled PASS result; results without a frame are ignored.</summary>
    /// <exception cref="ObjectDisposedException">The sink has been disposed.</exception>
    public ValueTask PublishAsync(InspectionResult result, Frame? frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_queue is null || frame is null)
        {
            return ValueTask.CompletedTask;
        }

        // Random.NextDouble() is below 1, so a rate of 1 keeps every PASS frame and a rate of 0 none.
        if (result.Verdict != Verdict.Fail && !(_sampler.NextDouble() < _options.PassSampleRate))
        {
            return ValueTask.CompletedTask;
        }

        if (!_free.TryDequeue(out ArchiveItem? item))
        {
            item = new ArchiveItem();
        }

        item.CopyFrom(result, frame);
        if (_queue.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref _queued);
        }
        else
        {
            Recycle(item);
        }

        return ValueTask.CompletedTask;
    }

    private async Task WriteLoopAsync()
    {
        await foreach (ArchiveItem item in _queue!.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            try
            {
                if (_beforeWrite is not null)
                {
                    await _beforeWrite(CancellationToken.None).ConfigureAwait(false);
                }

                WriteOne(item);
            }
            finally
            {
                Recycle(item);
            }
        }
    }

    private void WriteOne(ArchiveItem item)
    {
        long sequence = item.Result.Sequence;
        try
        {
            if (_store!.Write(item, _time.GetUtcNow(), out long bytes))
            {
                Interlocked.Increment(ref _written);
            }
            else
            {
                Interlocked.Increment(ref _tooLarge);
                Log.TooLarge(_logger, sequence, bytes, _options.QuotaMegabytes);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OpenCVException)
        {
            Interlocked.Increment(ref _failed);
            Log.WriteFailed(_logger, ex, sequence, _store!.Directory);
        }
    }

    private void OnDropped(ArchiveItem item)
    {
        Interlocked.Increment(ref _dropped);
        Recycle(item);
    }

    private void Recycle(ArchiveItem item)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            item.ReleaseBuffer();
            return;
        }

        _free.Enqueue(item);
    }

    /// <summary>Stops taking frames, waits until the queued ones are written, and releases the buffers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue?.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        while (_free.TryDequeue(out ArchiveItem? item))
        {
            item.ReleaseBuffer();
        }

        if (_store is not null)
        {
            ArchiveCounters counters = Counters;
            Log.Closed(_logger, counters.Written, counters.Dropped, counters.Failed, counters.Deleted);
        }
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/>: blocks until the queued frames are written.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static partial class Log
    {
        [LoggerMessage(2500, LogLevel.Information, "Image archive in {Directory}: {Entries} entries, {UsedBytes} bytes of {QuotaMiB} MiB; {Stale} unfinished files from an earlier run removed")]
        public static partial void Opened(ILogger logger, string directory, int entries, long usedBytes, int quotaMiB, int stale);

        [LoggerMessage(2501, LogLevel.Error, "Seq {Sequence} could not be archived in {Directory}")]
        public static partial void WriteFailed(ILogger logger, Exception exception, long sequence, string directory);

        [LoggerMessage(2502, LogLevel.Warning, "Seq {Sequence} was not archived: its {Bytes} bytes exceed the whole quota of {QuotaMiB} MiB")]
        public static partial void TooLarge(ILogger logger, long sequence, long bytes, int quotaMiB);

        [LoggerMessage(2503, LogLevel.Information, "Image archive closed: {Written} written, {Dropped} dropped while the writer was busy, {Failed} failed, {Deleted} deleted for the quota")]
        public static partial void Closed(ILogger logger, long written, long dropped, long failed, long deleted);

        [LoggerMessage(2504, LogLevel.Information, "Image archive disabled (Archive:Enabled is false)")]
        public static partial void Disabled(ILogger logger);
    }
}

/// <summary>Image archive counts.</summary>
/// <param name="Queued">Frames accepted for archiving.</param>
/// <param name="Written">Entries written (PNG + sidecar).</param>
/// <param name="Dropped">Frames dropped from a full queue (oldest first).</param>
/// <param name="Failed">Frames that could not be written (I/O error, or larger than the whole quota).</param>
/// <param name="Deleted">Entries deleted to stay under the quota.</param>
/// <param name="UsedBytes">Bytes the archive's files use now.</param>
public readonly record struct ArchiveCounters(long Queued, long Written, long Dropped, long Failed, long Deleted, long UsedBytes);
