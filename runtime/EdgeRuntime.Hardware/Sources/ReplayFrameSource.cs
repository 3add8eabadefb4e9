using System.Buffers;
using EdgeRuntime.Core.Frames;
using EdgeRuntime.Core.Options;
using EdgeRuntime.Core.Triggers;
using EdgeRuntime.Vision.Imaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace EdgeRuntime.Hardware.Sources;

/// <summary>
/// Replays the PNG, JPEG and BMP images of a folder, in ordinal file-name order, as BGR frames from a
/// <see cref="FramePool"/>. The folder is listed once, at construction.
/// </summary>
/// <remarks>
/// <para>Decoded images are kept in memory while they fit <see cref="ReplayOptions.CacheBudgetMegabytes"/>, so a
/// looping replay of a small folder measures the pipeline, not the PNG decoder; cached frames are a copy, nothing more.</para>
/// <para>A file that cannot be read or decoded costs its trigger a <see cref="FrameSourceException"/> naming the file
/// (the pipeline issues the fail-safe verdict); the next trigger gets the next file. When the last image has been
/// handed out and <see cref="ReplayOptions.Loop"/> is off, <see cref="CaptureAsync"/> throws
/// <see cref="ReplayFinishedException"/>.</para>
/// <para>Threading: <see cref="CaptureAsync"/> is called by the capture stage, one call at a time (the
/// <see cref="IFrameSource"/> contract); the counters may be read from any thread.</para>
/// </remarks>
public sealed partial class ReplayFrameSource : IFrameSource
{
    private const long BytesPerMegabyte = 1024 * 1024;

    private readonly string _directory;
    private readonly string[] _paths;
    private readonly string[] _names;
    private readonly CachedImage?[] _cache;
    private readonly bool _loop;
    private readonly long _minSpacingTicks;
    private readonly long _cacheBudgetBytes;
    private readonly FramePool _pool;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _earliest = long.MinValue;
    private long _cachedBytes;
    private int _cachedImages;
    private bool _budgetReported;
    private int _next;
    private long _replayed;

    /// <summary>Lists the folder; the source keeps <paramref name="pool"/> but does not own it.</summary>
    /// <exception cref="InvalidOperationException">The folder is missing, unreadable or holds no images (the message names it).</exception>
    public ReplayFrameSource(IOptions<SourceOptions> options, FramePool pool, TimeProvider timeProvider, ILogger<ReplayFrameSource> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        ReplayOptions replay = options.Value.Replay;
        ArgumentOutOfRangeException.ThrowIfNegative(replay.RateHz);
        ArgumentOutOfRangeException.ThrowIfNegative(replay.CacheBudgetMegabytes);
        _directory = replay.Directory;
        string? problem = string.IsNullOrWhiteSpace(_directory) ? "must be a folder of " + ImageFolder.Describe : ImageFolder.Problem(_directory);
        if (problem is not null)
        {
            var problems = new OptionsProblems(SourceOptions.SectionName);
            problems.Add("Replay:Directory", _directory, problem);
            throw new InvalidOperationException(problems.Items[0]);
        }

        _paths = ImageFolder.List(_directory);
        _names = new string[_paths.Length];
        for (int i = 0; i < _paths.Length; i++)
        {
            _names[i] = Path.GetFileName(_paths[i]);
        }

        _cache = new CachedImage?[_paths.Length];
        _loop = replay.Loop;
        _minSpacingTicks = replay.RateHz > 0 ? (long)Math.Ceiling(timeProvider.TimestampFrequency / replay.RateHz) : 0;
        _cacheBudgetBytes = replay.CacheBudgetMegabytes * BytesPerMegabyte;
        _pool = pool;
        _time = timeProvider;
        _logger = logger;
        Log.Opened(logger, _paths.Length, _directory, _loop, replay.RateHz, replay.CacheBudgetMegabytes);
    }

    /// <inheritdoc />
    public string Name => "replay";

    /// <summary>Number of images in the folder.</summary>
    public int ImageCount => _paths.Length;

    /// <summary>Images whose decoded pixels are held in memory.</summary>
    public int CachedImages => Volatile.Read(ref _cachedImages);

    /// <summary>Bytes of decoded pixels held in memory (at most the cache budget).</summary>
    public long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>Frames handed out so far.</summary>
    public long FramesReplayed => Interlocked.Read(ref _replayed);

    /// <summary>
    /// Hands out the next image as a frame the caller owns and disposes, after waiting as long as
    /// <see cref="ReplayOptions.RateHz"/> requires.
    /// </summary>
    /// <exception cref="FrameSourceException">This image cannot be read or decoded (the message names the file); it is skipped.</exception>
    /// <exception cref="ReplayFinishedException">Every image has been handed out and the replay does not loop.</exception>
    public ValueTask<Frame> CaptureAsync(TriggerSignal trigger, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_minSpacingTicks > 0)
        {
            long now = _time.GetTimestamp();
            if (now < _earliest)
            {
                return PaceThenTakeAsync(now, cancellationToken);
            }
        }

        return new ValueTask<Frame>(TakeNext());
    }

    private async ValueTask<Frame> PaceThenTakeAsync(long now, CancellationToken cancellationToken)
    {
        await Task.Delay(_time.GetElapsedTime(now, _earliest), _time, cancellationToken).ConfigureAwait(false);
        return TakeNext();
    }

    private Frame TakeNext()
    {
        if (_next == _paths.Length)
        {
            if (!_loop)
            {
                Log.Finished(_logger, _paths.Length, _replayed);
                throw new ReplayFinishedException($"the replay of {_directory} ended after its {_paths.Length} images (Source:Replay:Loop is off)")
                {
                    FramesReplayed = _replayed,
                };
            }

            _next = 0;
        }

        int index = _next++;

        // The slot is spent even when the image is bad, so the rate limit holds for skipped files too.
        _earliest = _time.GetTimestamp() + _minSpacingTicks;
        Frame frame = _cache[index] is { } cached ? FromCache(cached) : Decode(index);
        frame.FrameId = _names[index];
        frame.CapturedTimestamp = _time.GetTimestamp();
        Interlocked.Increment(ref _replayed);
        return frame;
    }

    private Frame FromCache(CachedImage cached)
    {
        Frame frame = _pool.Rent(cached.Width, cached.Height, PixelFormat.Bgr24);
        cached.Pixels.CopyTo(frame.Pixels);
        return frame;
    }

    private Frame Decode(int index)
    {
        string path = _paths[index];
        byte[] encoded = ReadFile(path, out int length);
        Frame frame;
        try
        {
            frame = ImageFiles.Decode(encoded.AsSpan(0, length), path, _pool);
        }
        catch (OpenCVException ex)
        {
            throw new FrameSourceException($"replay: {path} cannot be decoded ({ex.Message}); skipped", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(encoded);
        }

        TryCache(index, frame);
        return frame;
    }

    private static byte[] ReadFile(string path, out int length)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            long size = stream.Length;
            if (size == 0)
            {
                throw new FrameSourceException($"replay: {path} is empty; skipped");
            }

            if (size > Array.MaxLength)
            {
                throw new FrameSourceException($"replay: {path} is too large to be an image ({size} bytes); skipped");
            }

            length = (int)size;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
            bool read = false;
            try
            {
                stream.ReadExactly(buffer, 0, length);
                read = true;
                return buffer;
            }
            finally
            {
                if (!read)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FrameSourceException($"replay: {path} cannot be read ({ex.Message}); skipped", ex);
        }
    }

    private void TryCache(int index, Frame frame)
    {
        ReadOnlySpan<byte> pixels = frame.Pixels;
        if (_cachedBytes + pixels.Length > _cacheBudgetBytes)
        {
            if (!_budgetReported && _cacheBudgetBytes > 0)
            {
                _budgetReported = true;
                Log.CacheFull(_logger, _cachedImages, _cachedBytes, _paths.Length - _cachedImages);
            }

            return;
        }

        byte[] copy = GC.AllocateUninitializedArray<byte>(pixels.Length);
        pixels.CopyTo(copy);
        _cache[index] = new CachedImage(frame.Width, frame.Height, copy);
        Interlocked.Add(ref _cachedBytes, copy.Length);
        Interlocked.Increment(ref _cachedImages);
    }

    private sealed record CachedImage(int Width, int Height, byte[] Pixels);

    private static partial class Log
    {
        [LoggerMessage(2100, LogLevel.Information, "Replaying {Count} images from {Directory} (loop {Loop}, at most {RateHz} frames/s, 0 = no limit; cache budget {BudgetMiB} MiB)")]
        public static partial void Opened(ILogger logger, int count, string directory, bool loop, double rateHz, int budgetMiB);

        [LoggerMessage(2101, LogLevel.Information, "Replay cache budget reached after {Cached} images ({Bytes} bytes); the other {Uncached} images are decoded on every pass")]
        public static partial void CacheFull(ILogger logger, int cached, long bytes, int uncached);

        [LoggerMessage(2102, LogLevel.Information, "Replay finished: {Count} images, {Frames} frames handed out")]
        public static partial void Finished(ILogger logger, int count, long frames);
    }
}
