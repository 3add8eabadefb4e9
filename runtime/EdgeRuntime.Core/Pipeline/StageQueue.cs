using System.Threading.Channels;

namespace EdgeRuntime.Core.Pipeline;

/// <summary>
/// A bounded queue between two stages with an explicit overload policy. Items pushed out by the policy
/// go to <c>onDropped</c> with this queue's reason, which returns their buffers and counts them.
/// One writer stage and one reader stage.
/// </summary>
internal sealed class StageQueue
{
    private readonly Channel<InspectionJob> _channel;

    public StageQueue(QueueOptions options, DropReason reason, Action<InspectionJob, DropReason> onDropped)
    {
        var channelOptions = new BoundedChannelOptions(options.Capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = options.Policy switch
            {
                OverloadPolicy.DropOldest => BoundedChannelFullMode.DropOldest,
                OverloadPolicy.DropNewest => BoundedChannelFullMode.DropWrite,
                _ => BoundedChannelFullMode.Wait,
            },
        };
        _channel = Channel.CreateBounded<InspectionJob>(channelOptions, job => onDropped(job, reason));
        Reason = reason;
    }

    public DropReason Reason { get; }

    public ChannelReader<InspectionJob> Reader => _channel.Reader;

    public int Count => _channel.Reader.Count;

    /// <summary>
    /// Queues a job; waits only under <see cref="OverloadPolicy.Block"/> when the queue is full (the other policies' channels
    /// always take the write, dropping an item by the policy). A job that finds room is
    /// queued even when <paramref name="cancellationToken"/> is already cancelled (the channel's own WriteAsync would refuse
    /// it), so a trigger that was counted and given room is never lost to a stop request.
    /// </summary>
    public ValueTask WriteAsync(InspectionJob job, CancellationToken cancellationToken) =>
        _channel.Writer.TryWrite(job) ? ValueTask.CompletedTask : _channel.Writer.WriteAsync(job, cancellationToken);

    /// <summary>Waits until the queue has room (for on-demand pacing).</summary>
    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) => _channel.Writer.WaitToWriteAsync(cancellationToken);

    public void Complete() => _channel.Writer.TryComplete();
}
