using System.Runtime.CompilerServices;
using EventHub.Log;
using EventHub.Streaming.Internal;

namespace EventHub.Streaming;

/// <summary>
/// One client's stream: catch-up from the log, then the live feed, with no gap and no duplicate
/// between them. Enumerate it once; disposing it (or cancelling the enumeration) leaves the
/// fan-out at once.
/// </summary>
/// <remarks>
/// The subscription joins the live feed <em>before</em> catch-up starts. Catch-up reads the log
/// after the client's offset until it has passed the head that the fan-out reported at joining;
/// every live event after that head is in the buffer, so the two overlap and never leave a gap.
/// The overlap is dropped by position: a live event at or before the last position delivered is
/// skipped. The same dance recovers a lagged subscription (its buffer overflowed): re-arm, which
/// reports a new head, then read the log from the last delivered position up to it.
/// </remarks>
public sealed class EventStream : IAsyncDisposable
{
    private readonly Subscription _subscription;
    private readonly EventFilter _filter;
    private readonly IChangeLogReader _reader;
    private readonly RecentEventsWindow _window;
    private readonly string _epoch;
    private readonly IEventFanout _fanout;
    private readonly StreamOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationToken _stopping;
    private LogPosition _last;
    private LogPosition _catchUpTarget;
    private bool _needsCatchUp;
    private int _disposed;

    internal EventStream(Subscription subscription, EventFilter filter, LogPosition start, bool catchUp,
        LogPosition head, IChangeLogReader reader, RecentEventsWindow window, IEventFanout fanout, string epoch, StreamOptions options, TimeProvider timeProvider,
        CancellationToken stopping)
    {
        _stopping = stopping;
        _subscription = subscription;
        _filter = filter;
        _last = start;
        _needsCatchUp = catchUp;
        _catchUpTarget = head;
        FromNowOffset = catchUp ? null : Offset.Format(epoch, start);
        _reader = reader;
        _window = window;
        _epoch = epoch;
        _fanout = fanout;
        _options = options;
        _timeProvider = timeProvider;
    }

    /// <summary>Position of the last event delivered (or the starting point).</summary>
    public LogPosition LastPosition => _last;

    /// <summary>
    /// For a stream from now, the offset it starts after (the fan-out's head when it joined): a
    /// resume from it misses nothing the stream would have delivered. Null for a stream from an offset.
    /// </summary>
    public string? FromNowOffset { get; }

    /// <summary>How many times this stream fell behind the live feed and caught up from the log.</summary>
    public int LagCount => _subscription.LagCount;

    /// <summary>
    /// The events, catch-up then live. Ends normally when the host stops (so clients reconnect at
    /// once, possibly to another node); throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires, and <see cref="StreamResetException"/> when
    /// retention pruned events after the stream's position.
    /// </summary>
    public async IAsyncEnumerable<LogEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping);
        var token = linked.Token;
        // Cancellation reaches the live wait by completing the subscription, registered once per
        // stream, so that each wait can take no token (see Subscription.WaitToReadAsync).
        using var endLiveWait = token.UnsafeRegister(static s => ((Subscription)s!).Complete(), _subscription);
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                if (_needsCatchUp)
                {
                    await foreach (var e in CatchUpAsync(cancellationToken, token))
                        yield return e;
                    if (_stopping.IsCancellationRequested) yield break;
                    _needsCatchUp = false;
                }

                while (_subscription.TryRead(out var live))
                {
                    if (live.Position <= _last) continue; // already delivered by catch-up
                    _last = live.Position;
                    yield return live;
                }

                if (_subscription.IsLagged)
                {
                    // The buffer overflowed and is now drained: read what was refused from the log.
                    _catchUpTarget = _fanout.Rearm(_subscription);
                    _needsCatchUp = true;
                    continue;
                }

                // Awaited here rather than in a helper: an async helper that suspends allocates its
                // state per wait, i.e. per live delivery of an idle stream.
                if (!await _subscription.WaitToReadAsync())
                {
                    cancellationToken.ThrowIfCancellationRequested(); // the caller gave up
                    yield break; // unsubscribed (disposed) or the host is stopping
                }
            }
        }
        finally
        {
            await DisposeAsync();
        }
    }

    private async IAsyncEnumerable<LogEvent> CatchUpAsync(CancellationToken caller, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Pages bounded by payload bytes too (PageLimit); the first one sized by the window's payloads.
        var limit = PageLimit.For(_options.CatchUpBatchSize, _options.CatchUpPagePayloadBytes, _window.AveragePayloadSize);
        var fromWindow = new List<LogEvent>();
        // The next batch, read while this one is written out: the database's read and the
        // client's writes overlap instead of taking turns. Only a batch that hit its limit has a
        // next one, and it starts exactly where this one ends.
        Task<LogBatch>? prefetched = null;
        try
        {
            while (true)
            {
                if (prefetched is null)
                {
                    // From memory when the window covers our position: it holds every event after
                    // it up to a head at least the fan-out's (so at least our target), and only
                    // final events.
                    fromWindow.Clear();
                    if (_window.TryRead(_last, _filter, limit.Rows, fromWindow))
                    {
                        foreach (var e in fromWindow)
                        {
                            _last = e.Position;
                            yield return e;
                        }
                        if (fromWindow.Count >= limit.Rows) continue;
                        yield break;
                    }
                }

                LogBatch batch;
                try
                {
                    batch = await (prefetched ?? _reader.ReadAsync(_last, _filter, limit, cancellationToken));
                }
                catch (OperationCanceledException) when (!caller.IsCancellationRequested && _stopping.IsCancellationRequested)
                {
                    yield break;
                }
                finally
                {
                    prefetched = null;
                }
                // Retention deleted rows after our position: continuing would leave a silent gap.
                // (Read in the same query as the rows, so a concurrent prune cannot slip between.)
                // A stream from the beginning ("0") that has delivered nothing yet just starts at
                // what remains.
                if (_last != LogPosition.Start && _last < batch.PrunedThrough)
                    throw new StreamResetException(ResetReasons.Pruned,
                        "Events after your offset were pruned by retention. Refetch your state, then continue from the offset given.",
                        Offset.Format(_epoch, _fanout.Head));
                // The read covered every position up to Through (the end of the last tick it
                // examined, or its last event): nothing at or before it can still come, so live
                // events there are duplicates.
                var end = batch.Events.Count > 0 ? LogPosition.Max(batch.Events[^1].Position, batch.Through) : LogPosition.Max(_last, batch.Through);
                limit = PageLimit.For(_options.CatchUpBatchSize, _options.CatchUpPagePayloadBytes, batch.Events, limit);
                if (!batch.Complete)
                    prefetched = _reader.ReadAsync(end, _filter, limit, cancellationToken);
                foreach (var e in batch.Events)
                {
                    _last = e.Position;
                    yield return e;
                }
                _last = LogPosition.Max(_last, end);
                if (!batch.Complete) continue;
                // Caught up once past the head the fan-out reported: on the primary that always
                // holds, since the tail read that tick before. A lagging replica may not have it yet: wait.
                if (_last >= _catchUpTarget) yield break;
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10), _timeProvider, cancellationToken);
                }
                catch (OperationCanceledException) when (!caller.IsCancellationRequested && _stopping.IsCancellationRequested)
                {
                    yield break;
                }
            }
        }
        finally
        {
            // A stream that ends mid catch-up leaves its read in flight to finish (or be cancelled
            // with the request) on its own, without holding the stream's end; its failure is
            // observed, as there is nobody left to deliver it to.
            _ = prefetched?.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _fanout.Unsubscribe(_subscription);
        return ValueTask.CompletedTask;
    }
}
