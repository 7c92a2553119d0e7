using System.Runtime.CompilerServices;
using EventHub.Log;
using Microsoft.Extensions.Options;

namespace EventHub.Streaming.Internal;

/// <summary>
/// The one reader of the change log per hub process. It reads the batches of new ticks in
/// position order and publishes them to the fan-out; every stream's live feed comes from here, so
/// the database sees one tail query per tick whatever the number of subscribers.
/// </summary>
/// <remarks>
/// Woken by <see cref="IChangeNotifier"/> when a tick is announced (the ticker's NOTIFY, or this
/// node's ticker directly), and by a poll at <see cref="StreamOptions.PollInterval"/> otherwise.
/// No transaction can hold it back: a tick's batch is final when the tick exists. After each read
/// the fan-out's head moves to the end of the last tick read, so "now" is always a tick boundary
/// or an event. Database errors are logged and retried with backoff; the cursor is only advanced
/// past rows that were published, so a failure loses nothing.
/// </remarks>
public sealed partial class ChangeLogTail(
    [FromKeyedServices(LogReaders.Tail)] IChangeLogReader reader,
    IChangeNotifier notifier,
    IEventFanout fanout,
    RecentEventsWindow window,
    IOptions<StreamOptions> options,
    TimeProvider timeProvider,
    ILogger<ChangeLogTail> logger) : BackgroundService, ITickBatchSink
{
    // Publishing (window, fan-out, position) happens under this lock, from this loop's reads and
    // from the ticker's hand-offs (TryPublishTick), so each event is published once, in order.
    private readonly Lock _publishLock = new();
    private bool _started;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly WakeupSignal _published = new();
    private long _lastReadTimestamp;
    private long _lastProgressTimestamp;
    private LogPosition _position;
    // The average payload of the last events published (read or handed over), which sizes the
    // next read's rows (PageLimit); at first the window's.
    private double _payloadAverage;
    // The ticker's rounds, begun and ended (one ticker thread: they end in the order they begin).
    private long _roundsBegun;
    private long _roundsEnded;
    private readonly WakeupSignal _roundEnded = new();

    /// <summary>How long a NOTIFY of a tick waits for this node's ticker round to hand it over before the tail reads it.</summary>
    private static readonly TimeSpan OwnRoundWait = TimeSpan.FromMilliseconds(100);

    /// <summary>Completes once the tail knows where "now" is and is publishing.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Whether the start-up (head and window) or the last read succeeded (for readiness).</summary>
    public bool IsHealthy { get; private set; }

    /// <summary>Time of the last successful read, from <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long LastReadTimestamp => Interlocked.Read(ref _lastReadTimestamp);

    /// <summary>
    /// Time of the last successful read or hand-off, from <see cref="TimeProvider.GetTimestamp"/>:
    /// when the tail last had the log's newest tick from the database (for readiness). On the
    /// ticking node a steady flow is all hand-offs: every tick's NOTIFY names a tick already
    /// published, so the fallback poll never comes due and the tail reads nothing for as long as
    /// the flow lasts; the time of the last read alone made that node not ready after
    /// <c>Health:MaxTailLag</c> of steady traffic (ReadinessTests).
    /// </summary>
    public long LastProgressTimestamp => Interlocked.Read(ref _lastProgressTimestamp);

    /// <summary>The position the tail has published up to (for the lag metric).</summary>
    public LogPosition Position { get { lock (_publishLock) return _position; } }

    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken) =>
        await _ready.Task.WaitAsync(cancellationToken);

    /// <summary>Waits until everything up to the end of <paramref name="tick"/> is published.</summary>
    public async Task WaitUntilPublishedAsync(long tick, CancellationToken cancellationToken)
    {
        await WaitUntilReadyAsync(cancellationToken);
        while (Position < LogPosition.EndOf(tick))
        {
            // The tick was made by someone: its NOTIFY (or the poll) wakes the tail; the tail
            // signals here after every read. Re-check at least every 50 ms in case of a lost signal.
            await _published.WaitAsync(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var backoff = TimeSpan.FromMilliseconds(100);
        LogPosition? position = null;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (position is null)
                {
                    // The cursor is set only once the window is loaded: if the load fails, the
                    // retry must start over here. (Setting it first skipped the start-up on the
                    // retry, so Ready never completed and every stream open waited forever.)
                    var headTick = await reader.GetHeadTickAsync(stoppingToken);
                    var head = LogPosition.EndOf(headTick);
                    await InitializeWindowAsync(headTick, stoppingToken);
                    lock (_publishLock)
                    {
                        fanout.Initialize(head);
                        _position = head;
                        _payloadAverage = window.AveragePayloadSize;
                        _started = true;
                    }
                    position = head;
                    LogStarted(head.ToString());
                    // The head and the window came from the database: healthy from here, not only
                    // from the next read (streams open and hand-offs publish before it completes).
                    IsHealthy = true;
                    Interlocked.Exchange(ref _lastProgressTimestamp, timeProvider.GetTimestamp());
                    _ready.TrySetResult();
                }

                // From what is published, not from where the last read ended: on the ticking node
                // hand-offs publish every tick while events flow, and the tail reads nothing for as
                // long as that lasts (no NOTIFY names a tick not handed over, the poll never comes
                // due). The first tick too large to hand over then re-read everything since the
                // last read, page by page, before it could publish a row: all the ticks since the
                // hub started in the bulk-load bench (10,169 buffers for the first page), the whole
                // kept log after days of steady traffic.
                // Bounded by payload bytes too: a burst of large payloads is read (and held) a
                // few megabytes at a time, not a thousand rows at once.
                PageLimit limit;
                lock (_publishLock)
                {
                    position = _position;
                    limit = PageLimit.For(settings.TailBatchSize, settings.TailBatchPayloadBytes, _payloadAverage);
                }
                var batch = await reader.ReadAsync(position.Value, EventFilter.All, limit, stoppingToken);
                window.Prune(batch.PrunedThrough); // read with the rows: what retention has deleted leaves the window too
                lock (_publishLock)
                {
                    // The ticker may have handed a tick over while this read ran: what it
                    // published is skipped here, and the position never moves back.
                    PublishLocked(batch.Events, batch.Through);
                    position = _position;
                }
                _published.Signal();
                IsHealthy = true;
                var now = timeProvider.GetTimestamp();
                Interlocked.Exchange(ref _lastReadTimestamp, now);
                Interlocked.Exchange(ref _lastProgressTimestamp, now);
                backoff = TimeSpan.FromMilliseconds(100);

                if (!batch.Complete) continue;
                // A tick was announced that this read did not see yet (the tail reads a standby
                // that has not replayed it): look again soon instead of at the next announcement.
                var wait = notifier.LatestTick > position.Value.Tick ? settings.HeldBackPollDelay : settings.PollInterval;
                // The announcement (NOTIFY) of a tick this node's ticker has already handed over
                // needs no read; a wake-up that names no tick, a later tick, or the poll does.
                while (await notifier.WaitAsync(wait, stoppingToken) && !notifier.TakeReadRequest()
                       && (notifier.LatestTick <= Position.Tick || await OwnRoundHandedOverAsync(stoppingToken)))
                    wait = settings.PollInterval;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                IsHealthy = false;
                LogReadFailed(e, backoff.TotalMilliseconds);
                try { await Task.Delay(backoff, timeProvider, stoppingToken); }
                catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
    }

    public void BeginRound() => Interlocked.Increment(ref _roundsBegun);

    public void EndRound()
    {
        Interlocked.Increment(ref _roundsEnded);
        _roundEnded.Signal();
    }

    /// <summary>
    /// Whether, once this node's ticker round in flight has ended, everything announced so far is
    /// published (the round handed its tick over). Race guarded: a tick's NOTIFY is sent at its
    /// commit, inside the ticker's round, and often reached the tail before the round's hand-off;
    /// the tail then read the tick the hand-off was about to publish (a fifth of the ticks under a
    /// write load). A round that made the tick hands it over or announces it before it ends; one
    /// that does not end within <see cref="OwnRoundWait"/>, or no round at all, leaves it to a read.
    /// The wait is for the rounds begun so far, not for a moment with no round in flight: with
    /// rounds 1 ms apart the next had often begun before this continuation ran, and the tail waited
    /// out the whole bound and read (10 of 30 ticks in <c>HandOffTests</c>).
    /// </summary>
    private async Task<bool> OwnRoundHandedOverAsync(CancellationToken cancellationToken)
    {
        var start = timeProvider.GetTimestamp();
        // The announced tick was made by a round begun before its NOTIFY arrived, so by this one or an earlier one.
        var round = Volatile.Read(ref _roundsBegun);
        while (Volatile.Read(ref _roundsEnded) < round)
        {
            var left = OwnRoundWait - timeProvider.GetElapsedTime(start);
            if (left <= TimeSpan.Zero) return false;
            await _roundEnded.WaitAsync(left, cancellationToken); // a stale signal only loops once more
        }
        return notifier.LatestTick <= Position.Tick;
    }

    public bool TryPublishTick(long tick, IReadOnlyList<LogEvent> events)
    {
        lock (_publishLock)
        {
            if (!_started || _position != LogPosition.EndOf(tick - 1)) return false;
            PublishLocked(events, LogPosition.EndOf(tick));
        }
        Interlocked.Exchange(ref _lastProgressTimestamp, timeProvider.GetTimestamp());
        _published.Signal();
        return true;
    }

    /// <summary>Publishes the events after the current position and moves it to <paramref name="through"/> (never back).</summary>
    /// <remarks>
    /// Compiled optimized at its first call: it runs on the ticker's thread (the hand-off), where an
    /// on-stack replacement of its loop over a large tick would be compiled while every event waits
    /// (see Ticker.Tick).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PublishLocked(IReadOnlyList<LogEvent> events, LogPosition through)
    {
        long payloadBytes = 0;
        var published = 0;
        foreach (var e in events)
        {
            if (e.Position <= _position) continue;
            window.Add(e); // before publishing: the window's head is never behind the fan-out's
            fanout.Publish(e);
            payloadBytes += e.PayloadSize;
            published++;
        }
        if (published > 0) _payloadAverage = (double)payloadBytes / published;
        if (through > _position)
        {
            window.AdvanceTo(through);
            fanout.Advance(through);
            _position = through;
        }
    }

    private async Task InitializeWindowAsync(long headTick, CancellationToken cancellationToken)
    {
        // One query at start-up: the window then covers the recent past, and the reconnect
        // storm that follows a restart is served from memory. Coverage starts after the rows
        // read, or where retention stopped, never at "the start" of a pruned log (that served a
        // pruned offset from memory, with a silent gap instead of a reset).
        var size = options.Value.RecentEventsWindowSize;
        if (size <= 0)
        {
            window.Initialize(LogPosition.EndOf(headTick), [], LogPosition.EndOf(headTick));
            return;
        }
        var recent = await reader.ReadLastAsync(headTick, size + 1, options.Value.RecentEventsWindowPayloadBytes, cancellationToken);
        window.Initialize(recent.CoveredFrom, recent.Events, LogPosition.EndOf(headTick));
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Tailing change_log from position {Position}")]
    private partial void LogStarted(string position);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Reading change_log failed; retrying in {DelayMs} ms")]
    private partial void LogReadFailed(Exception exception, double delayMs);
}
