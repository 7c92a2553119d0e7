using EventHub.Log;
using Microsoft.Extensions.Options;

namespace EventHub.Streaming;

/// <summary>
/// The one stream source behind every transport: it validates a request, checks its offset
/// against this log, joins the live feed and hands back an <see cref="EventStream"/> that
/// delivers catch-up, then live events, each committed event exactly once, in position order.
/// Transports (SSE, SignalR) only encode what it yields.
/// </summary>
public sealed class EventStreamSource(
    IChangeLogReader reader,
    IEventFanout fanout,
    ChangeLogTail tail,
    StreamRequestValidator validator,
    IOptions<StreamOptions> options,
    TimeProvider timeProvider)
{
    /// <summary>
    /// Opens a stream. Throws <see cref="StreamRequestException"/> for a request that cannot be
    /// served, before anything is sent, so a transport can answer with a clear error.
    /// </summary>
    public async Task<EventStream> OpenAsync(StreamRequest request, CancellationToken cancellationToken = default)
    {
        var validated = validator.Validate(request);
        await tail.WaitUntilReadyAsync(cancellationToken);

        LogPosition? start = null;
        if (validated.After is { } after)
        {
            if (after.Epoch is not null)
            {
                var epoch = await reader.GetEpochAsync(cancellationToken);
                if (after.Epoch != epoch)
                    throw new StreamRequestException(StreamErrorCodes.ForeignOffset,
                        $"The offset belongs to another log (epoch '{after.Epoch}'; this log is '{epoch}'), " +
                        "for example another database or one restored since. Start again from \"0\" or from now.");
                // An offset up to the head is certainly one this log produced; only one beyond it
                // costs a query, to tell "produced by a node ahead of us" from "never produced".
                if (after.Position > fanout.Head)
                {
                    var horizon = await reader.GetHorizonAsync(cancellationToken);
                    if (after.Position.TransactionId >= horizon.NextTransactionId || after.Position.Seq > horizon.LastSeq)
                        throw new StreamRequestException(StreamErrorCodes.OffsetOutOfRange,
                            "The offset lies beyond anything this log has written, so it was not produced by this log. " +
                            "Resume from an offset the stream gave you, or from \"0\".");
                }
            }
            start = after.Position;
        }

        var subscription = new Subscription(validated.Filter, options.Value.SubscriberBufferCapacity);
        var head = fanout.Subscribe(subscription);
        if (start is null)
        {
            // "From now" means after everything committed and final when the request arrived. The
            // tail may not have read that far yet (its wake-up is in flight), so ask the log for its
            // head too: events up to it are skipped when the tail publishes them. Rows that commit
            // later, or that are held back behind an older open transaction, lie beyond it.
            try
            {
                var logHead = await reader.GetHeadAsync(cancellationToken);
                start = logHead > head ? logHead : head;
            }
            catch
            {
                fanout.Unsubscribe(subscription);
                throw;
            }
            return new EventStream(subscription, validated.Filter, start.Value, catchUp: false, head,
                reader, fanout, options.Value, timeProvider);
        }
        return new EventStream(subscription, validated.Filter, start.Value, catchUp: true, head,
            reader, fanout, options.Value, timeProvider);
    }
}
