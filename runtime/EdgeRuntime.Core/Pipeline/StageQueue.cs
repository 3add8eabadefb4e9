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
    private readonly OverloadPolicy _policy;

    public StageQueue(QueueOptions options, DropReason reason, Action<InspectionJob, DropReason> onDropped)
    {
        _policy = options.Policy;
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

    /// <summary>Queues a job; waits only under <see cref="OverloadPolicy.Block"/>.</summary>
    public ValueTask WriteAsync(InspectionJob job, CancellationToken cancellationToken) =>
        _policy == OverloadPolicy.Block || !_channel.Writer.TryWrite(job)
            ? _channel.Writer.WriteAsync(job, cancellationToken)
            : ValueTask.CompletedTask;

    /// <summary>Waits until the queue has room (for on-demand pacing).</summary>
    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) => _channel.Writer.WaitToWriteAsync(cancellationToken);

    public void Complete() => _channel.Writer.TryComplete();
}
