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
    RecentEventsWindow window,
    ChangeLogTail tail,
    StreamRequestValidator validator,
    IOptions<StreamOptions> options,
    TimeProvider timeProvider,
    IHostApplicationLifetime? lifetime = null,
    [FromKeyedServices(LogReaders.CatchUp)] IChangeLogReader? catchUpReader = null)
{
    // Catch-ups may read a replica; offsets, snapshots and the epoch come from the primary.
    private readonly IChangeLogReader _catchUpReader = catchUpReader ?? reader;

    // Streams end (gracefully, so clients reconnect at once) when the host begins to stop;
    // otherwise open streams would hold the shutdown until its timeout.
    private readonly CancellationToken _stopping = lifetime?.ApplicationStopping ?? CancellationToken.None;

    /// <summary>How long <see cref="GetHeadOffsetAsync"/> waits for transactions open at the call to end.</summary>
    private static readonly TimeSpan HeadSettleLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The offset of the log's head now: after every event committed before this call. Streaming
    /// after it gives the events from now on, and it stays a fixed point to resume from.
    /// </summary>
    /// <remarks>
    /// A row that committed before the call can still wait behind an older open transaction, and
    /// then sorts after a head taken at once. So this first waits, briefly and boundedly, until
    /// every transaction running at the call has ended; past the bound (a long transaction holds
    /// the log back) it answers with the head it has, and such rows may still arrive.
    /// </remarks>
    public Task<string> GetHeadOffsetAsync(CancellationToken cancellationToken = default) =>
        LazyInitializer.EnsureInitialized(ref _headOffset, () => new SharedComputation<string>(ComputeHeadOffsetAsync, _stopping))
            .GetAsync(cancellationToken);

    // Concurrent calls share computations (SharedComputation says why that is enough of a bound).
    private SharedComputation<string>? _headOffset;

    private async Task<string> ComputeHeadOffsetAsync(CancellationToken cancellationToken)
    {
        await tail.WaitUntilReadyAsync(cancellationToken);
        var epoch = await reader.GetEpochAsync(cancellationToken);
        var atCall = await reader.GetSnapshotAsync(cancellationToken);
        var deadline = timeProvider.GetTimestamp() + (long)(HeadSettleLimit.TotalSeconds * timeProvider.TimestampFrequency);
        var delay = TimeSpan.FromMilliseconds(2);
        while ((await reader.GetSnapshotAsync(cancellationToken)).Xmin < atCall.Xmax && timeProvider.GetTimestamp() < deadline)
        {
            await Task.Delay(delay, timeProvider, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
        }
        var published = fanout.Head;
        var final = await reader.GetHeadAsync(cancellationToken);
        var head = final > published ? final : published;
        return head == LogPosition.Start ? Offset.Beginning : Offset.Format(epoch, head);
    }

    /// <summary>
    /// Opens a stream. Throws <see cref="StreamRequestException"/> for a request that cannot be
    /// served and <see cref="StreamResetException"/> for an offset of another log, before anything
    /// is sent, so a transport can answer with a clear error or its reset signal.
    /// </summary>
    public async Task<EventStream> OpenAsync(StreamRequest request, CancellationToken cancellationToken = default)
    {
        var validated = validator.Validate(request);
        await tail.WaitUntilReadyAsync(cancellationToken);
        var epoch = await reader.GetEpochAsync(cancellationToken);

        LogPosition? start = null;
        if (validated.After is { } after)
        {
            if (after.Epoch is not null)
            {
                if (after.Epoch != epoch)
                    throw new StreamResetException(ResetReasons.ForeignLog,
                        $"The offset belongs to another log (epoch '{after.Epoch}'; this log is '{epoch}'), " +
                        "for example another database or one restored since. Refetch your state, then continue from the offset given.",
                        Offset.Format(epoch, fanout.Head));
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
            // "From now": everything after the head is in the buffer, but some of it may have
            // committed before this request (the tail's wake-up was in flight, or the rows wait
            // behind an older open transaction). Skip what the snapshot taken now sees committed.
            LogSnapshot now;
            try
            {
                now = await reader.GetSnapshotAsync(cancellationToken);
            }
            catch
            {
                fanout.Unsubscribe(subscription);
                throw;
            }
            return new EventStream(subscription, validated.Filter, head, catchUp: false, head,
                _catchUpReader, window, fanout, epoch, options.Value, timeProvider, _stopping, skipCommittedIn: now);
        }
        return new EventStream(subscription, validated.Filter, start.Value, catchUp: true, head,
            _catchUpReader, window, fanout, epoch, options.Value, timeProvider, _stopping);
    }
}
