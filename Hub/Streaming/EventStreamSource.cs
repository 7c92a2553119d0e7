using EventHub.Log;
using EventHub.Streaming.Internal;
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
    [FromKeyedServices(LogReaders.CatchUp)] IChangeLogReader? catchUpReader = null,
    Ticker? ticker = null)
{
    // Catch-ups may read a replica; offsets, snapshots and the epoch come from the primary.
    private readonly IChangeLogReader _catchUpReader = catchUpReader ?? reader;

    // Streams end (gracefully, so clients reconnect at once) when the host begins to stop;
    // otherwise open streams would hold the shutdown until its timeout.
    private readonly CancellationToken _stopping = lifetime?.ApplicationStopping ?? CancellationToken.None;

    /// <summary>
    /// The offset of the log's head now: after every event committed before this call. Streaming
    /// after it gives the events from now on, and it stays a fixed point to resume from.
    /// </summary>
    public async Task<string> GetHeadOffsetAsync(CancellationToken cancellationToken = default)
    {
        var tick = await NowAsync(cancellationToken);
        return Offset.Format(await reader.GetEpochAsync(cancellationToken), LogPosition.EndOf(tick));
    }

    /// <summary>
    /// The newest tick once every event committed before the call is in it or before it, and this
    /// node's tail has published it: the cut that "now" means, for the head offset and for streams
    /// from now.
    /// </summary>
    /// <remarks>
    /// A commit just before the call may be in no tick yet (the ticker looks every few ms). On the
    /// node that ticks, the answer is the ticker's next round (a statement it runs anyway; asking
    /// only cuts its pause short), so it costs no query of its own. Elsewhere it makes a tick
    /// itself (any node may; ticks are serialised in the database), and concurrent callers share
    /// those computations (<see cref="SharedComputation{T}"/>): a burst of 1,000 opens costs a few
    /// statements, not 1,000. No open transaction can hold the answer back.
    /// </remarks>
    private Task<long> NowAsync(CancellationToken cancellationToken) =>
        LazyInitializer.EnsureInitialized(ref _now, () => new SharedComputation<long>(ComputeNowAsync, _stopping))
            .GetAsync(cancellationToken);

    private SharedComputation<long>? _now;

    private async Task<long> ComputeNowAsync(CancellationToken cancellationToken)
    {
        await tail.WaitUntilReadyAsync(cancellationToken);
        var round = ticker is null ? null : await ticker.NextRoundAsync().WaitAsync(cancellationToken);
        var tick = round ?? await reader.TickNowAsync(cancellationToken);
        await tail.WaitUntilPublishedAsync(tick, cancellationToken);
        return tick;
    }

    /// <summary>
    /// Opens a stream. Throws <see cref="StreamRequestException"/> for a request that cannot be
    /// served and <see cref="StreamResetException"/> for an offset of another log, before anything
    /// is sent, so a transport can answer with a clear error or its reset signal.
    /// </summary>
    /// <remarks>
    /// A stream from an offset the recent-events window holds costs no database round trip, nor
    /// does one from now on the node that ticks (<see cref="NowAsync"/>).
    /// </remarks>
    public async Task<EventStream> OpenAsync(StreamRequest request, CancellationToken cancellationToken = default)
    {
        var validated = validator.Validate(request);
        await tail.WaitUntilReadyAsync(cancellationToken);
        var epoch = await reader.GetEpochAsync(cancellationToken);

        LogPosition? start = null;
        if (validated.After is { } after)
        {
            if (after.Epoch is not null && after.Epoch != epoch)
                throw new StreamResetException(ResetReasons.ForeignLog,
                    $"The offset belongs to another log (epoch '{after.Epoch}'; this log is '{epoch}'), " +
                    "for example another database or one restored since. Refetch your state, then continue from the offset given.",
                    Offset.Format(epoch, fanout.Head));
            start = await ResolveAsync(after, epoch, cancellationToken);
        }

        // From now: subscribe once the tail has published every event committed before this call,
        // so none of them arrives, and every later one does (it is after the fan-out's head).
        if (start is null) await NowAsync(cancellationToken);

        var subscription = new Subscription(validated.Filter, options.Value.SubscriberBufferCapacity, options.Value.SubscriberBufferPayloadBytes);
        var head = fanout.Subscribe(subscription);
        return start is null
            ? new EventStream(subscription, validated.Filter, head, catchUp: false, head,
                _catchUpReader, window, fanout, epoch, options.Value, timeProvider, _stopping)
            : new EventStream(subscription, validated.Filter, start.Value, catchUp: true, head,
                _catchUpReader, window, fanout, epoch, options.Value, timeProvider, _stopping);
    }

    /// <summary>The position an offset names: from memory when the window or the tail has it, else one query.</summary>
    private async Task<LogPosition> ResolveAsync(ParsedOffset after, string epoch, CancellationToken cancellationToken)
    {
        switch (after.Kind)
        {
            case OffsetKind.Beginning:
                return LogPosition.Start;
            case OffsetKind.TickEnd when after.Tick <= fanout.Head.Tick:
                return LogPosition.EndOf(after.Tick); // a tick this node has read exists
            case OffsetKind.Event when window.TryFind(after.Tick, after.Seq, out var known):
                return known;
        }
        var lookup = await reader.LookUpAsync(after, cancellationToken);
        return lookup.Result switch
        {
            OffsetLookupResult.Found => lookup.Position,
            // Before what retention kept: the catch-up's first read answers with the reset.
            OffsetLookupResult.Pruned => LogPosition.EndOf(after.Tick - 1),
            OffsetLookupResult.FormatChanged => throw new StreamResetException(ResetReasons.OffsetFormatChanged,
                "The offset is in the format of an older EventHub and names no exact position in this log's order (it was issued after the " +
                "log was upgraded, or by no node of this log). " +
                "Refetch your state, then continue from the offset given.",
                Offset.Format(epoch, fanout.Head)),
            OffsetLookupResult.BeyondHead => throw new StreamRequestException(StreamErrorCodes.OffsetOutOfRange,
                "The offset lies beyond anything this log has written, so it was not produced by this log. " +
                "Resume from an offset the stream gave you, or from \"0\"."),
            _ => throw new StreamRequestException(StreamErrorCodes.InvalidOffset,
                "The offset names no event of this log. Resume from an offset the stream gave you, or from \"0\"."),
        };
    }
}
