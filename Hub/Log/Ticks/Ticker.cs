using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// Makes the log's ticks (migration 0007, <c>eventhub_tick</c>): while it holds the lease, it
/// calls the tick function every <see cref="TickerOptions.Interval"/>; the function stores a
/// snapshot only when a committed row is in no tick yet, and NOTIFYs every hub of the new tick.
/// With <see cref="TickerOptions.WaitInDatabase"/> set, the looks between ticks run inside the
/// database while events flow (migration 0012), so a round trip comes about once per tick.
/// Writers pay nothing for the wake-up: no trigger of theirs notifies.
/// </summary>
/// <remarks>
/// One node ticks at a time, by a lease on the database clock (<c>eventhub_ticker</c>), so a dead
/// node's lease expires whatever its TCP connection does (a session advisory lock would wait for
/// the server to notice the dead peer: keepalive, 2 h by default). Safety never depends on the
/// lease: ticks are serialised by a lock inside the function, so two tickers at once only make
/// more ticks. The ticker's session commits synchronously: a tick lost in a crash after hubs had
/// served it would be re-made with another snapshot, and offsets would move.
/// </remarks>
public sealed partial class Ticker(
    [FromKeyedServices(LogDataSources.Tail)] NpgsqlDataSource dataSource,
    Storage.PrimaryPools pools,
    PostgresChangeNotifier notifier,
    ITickBatchSink sink,
    IOptions<TickerOptions> options,
    TimeProvider timeProvider,
    ILogger<Ticker> logger) : BackgroundService
{
    private readonly Guid _owner = Guid.NewGuid();
    private readonly RepeatedStrings _strings = new();
    private volatile bool _leader;
    private long _ticksMade;
    private long _rounds;
    private TaskCompletionSource<long?> _nextRound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waitingForRound;
    /// <summary>When the rounds began to fail (a <see cref="TimeProvider"/> timestamp), 0 while they succeed.</summary>
    private long _failingSince;

    /// <summary>
    /// The newest tick after the first round of this ticker that starts after the call (made or
    /// not): every event committed before the call is in it or before it. Null when this node
    /// does not hold the lease (or the round failed); the caller then ticks itself. Wakes the
    /// ticker, so the answer comes within one statement, not one pause.
    /// </summary>
    /// <remarks>
    /// Race guarded: a round swaps in a fresh completion source <em>before</em> it runs its
    /// statement, so a caller that got the old source is answered by a round whose snapshot is
    /// taken after its call, and one that got the new source by the round after.
    /// </remarks>
    public Task<long?> NextRoundAsync()
    {
        if (!_leader) return Task.FromResult<long?>(null); // a follower's rounds only check the lease
        // Counted before the source is read: a round that answers this caller reads the count after
        // its swap, so it sees the caller and does not wait in the database (see WaitInDatabase).
        Interlocked.Increment(ref _waitingForRound);
        var round = Volatile.Read(ref _nextRound).Task;
        notifier.TickerWakeup.Signal();
        return AnsweredAsync(round);
    }

    private async Task<long?> AnsweredAsync(Task<long?> round)
    {
        try { return await round; }
        finally { Interlocked.Decrement(ref _waitingForRound); }
    }

    /// <summary>Whether this node holds the lease now.</summary>
    public bool IsLeader => _leader;

    /// <summary>Ticks this node made.</summary>
    public long TicksMade => Interlocked.Read(ref _ticksMade);

    /// <summary>Rounds this node's ticker began: one round trip to the database each.</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>
    /// How long every round has failed (null while they succeed): no tick is made meanwhile, so no
    /// new event reaches any client of any node whose ticker fails alike (readiness: TickerHealthCheck).
    /// </summary>
    public TimeSpan? FailingFor => Interlocked.Read(ref _failingSince) is var since and not 0
        ? timeProvider.GetElapsedTime(since) : null;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            _nextRound.TrySetResult(null); // never the leader: callers tick themselves
            return Task.CompletedTask;
        }
        // A thread of its own, with blocking calls and waits: every event waits for this loop's
        // next look, and a pause on the thread pool (timer, then a queued continuation) ran 3-5 ms
        // over a 2 ms pause under load, which went straight into every event's latency.
        return Task.Factory.StartNew(() => Run(settings, stoppingToken), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .ContinueWith(_ => ReleaseLeaseAsync(), TaskScheduler.Default).Unwrap();
    }

    private void Run(TickerOptions settings, CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = dataSource.OpenConnection();
                TickerSessionSql.Prepare(connection);
                var epoch = EpochSql.Read(connection);
                Tick(connection, epoch, settings, stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break; // stopping (a statement cancelled by the stop fails with a server error)
            }
            catch (Exception e)
            {
                // A session the server or the network lost (Npgsql closes it; a query error leaves it
                // open): every pool's idle sessions most likely went with it (PrimaryPools). Dropped,
                // so neither the next round, nor the tail, which reads the tick the lost round may
                // have made unheard, nor a catch-up waits on one of them for a command timeout.
                if (connection is { State: not System.Data.ConnectionState.Open }) pools.Clear();
                connection?.Dispose(); // not held through the backoff: the tail's pool is small
                connection = null;
                Interlocked.Exchange(ref _nextRound, new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously))
                    .TrySetResult(null);
                SetLeader(false);
                if (Interlocked.CompareExchange(ref _failingSince, timeProvider.GetTimestamp(), 0) == 0)
                    backoff = TimeSpan.FromMilliseconds(100); // the first failure since rounds succeeded: not a past outage's backoff
                LogTickFailed(e, backoff.TotalMilliseconds);
                if (stoppingToken.WaitHandle.WaitOne(backoff)) break;
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
            finally
            {
                connection?.Dispose();
            }
        }
    }

    // Compiled optimized at its first call, never tiered: this loop is entered once and runs for the
    // hub's life, so the runtime would replace its tier-0 code on stack (OSR), compiling the
    // optimized version synchronously on this thread, seconds into the first load. That compile took
    // 35-76 ms on the bench's 2 cores, and every event waited for it: the young hub's one slow tick
    // (bench/results/2026-12-04-ticker-osr.md). What the loop calls still tiers up in the background.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tick(NpgsqlConnection connection, string epoch, TickerOptions settings, CancellationToken stoppingToken)
    {
        // One round trip a round: the tick function, after the wait for a commit (migration 0012)
        // when the leader waits in the database, in one batch (one implicit transaction; each
        // statement has its own snapshot).
        var waits = settings.WaitInDatabase > TimeSpan.Zero;
        var waitFor = new NpgsqlParameter<TimeSpan> { TypedValue = TimeSpan.Zero };
        var waitStep = new NpgsqlParameter<TimeSpan> { TypedValue = settings.Interval };
        // A round that does not answer is a session the network lost (TickerOptions.RoundTimeout).
        using var batch = new NpgsqlBatch(connection) { Timeout = (int)Math.Ceiling((settings.RoundTimeout + settings.WaitInDatabase).TotalSeconds) };
        if (waits)
            batch.BatchCommands.Add(WaitForCommitSql.Command(waitFor, waitStep));
        batch.BatchCommands.Add(TickRowsSql.Command(_owner, settings.Lease, settings.HandOffRows, settings.HandOffPayloadBytes));
        batch.Prepare();
        using var cancel = stoppingToken.Register(() => { try { batch.Cancel(); } catch { /* the round ends anyway */ } });
        var pacing = new TickPacing(settings);
        var delay = settings.Interval;
        var lastMade = timeProvider.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            var roundStart = timeProvider.GetTimestamp();
            long tickId = 0;
            bool made = false, leader = false, hasRows = false, tooLarge = false;
            List<LogEvent>? events = null;
            long payloadBytes = 0;
            var round = Interlocked.Exchange(ref _nextRound, new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously));
            // While events flow, the leader's looks run in the database, the pause apart (Interval,
            // growing with the quiet: QuietShare), until a commit is due or WaitInDatabase has
            // passed. Not while the log is busy (the pauses there make ticks larger on purpose),
            // nor when idle (at IdleInterval a look every few tens of ms costs little, and an open
            // from now is answered at once), nor for a follower, nor when a caller of
            // NextRoundAsync waits for this round (it wants the answer of one look).
            var wait = waits && _leader && !pacing.Busy && (delay < settings.IdleInterval || delay <= settings.Interval)
                       && Volatile.Read(ref _waitingForRound) == 0
                ? settings.WaitInDatabase : TimeSpan.Zero;
            waitFor.TypedValue = wait;
            waitStep.TypedValue = delay;
            Interlocked.Increment(ref _rounds);
            // Until EndRound, a NOTIFY of this round's tick need not make the tail read it.
            sink.BeginRound();
            try
            {
                try
                {
                    // Disposing the reader reads on to ReadyForQuery, i.e. past the batch's
                    // (synchronous) commit: no row of a tick is handed on before the tick is durable.
                    using var reader = batch.ExecuteReader();
                    if (waits) reader.NextResult(); // past the wait's answer: the tick function decides
                    while (reader.Read())
                    {
                        leader = reader.GetBoolean(TickRowsSql.Leader);
                        if (!leader) continue;
                        tickId = reader.GetInt64(TickRowsSql.TickId);
                        made = reader.GetBoolean(TickRowsSql.Made);
                        hasRows = reader.GetBoolean(TickRowsSql.HasRows);
                        if (reader.IsDBNull(TickRowsSql.Tx)) continue;
                        var e = TickRowsSql.ReadEvent(reader, epoch, tickId, _strings);
                        // Past the payload bound the tick is read by the tail, in pages: the
                        // rest of the rows are let go unread (every row carries the same tick
                        // columns), skipped on the wire as the reader is disposed. (The tick
                        // function bounds the payloads as stored, maybe compressed; this bounds
                        // them as read.)
                        payloadBytes += e.PayloadSize;
                        if (payloadBytes > settings.HandOffPayloadBytes)
                        {
                            tooLarge = true;
                            events = null;
                            break;
                        }
                        (events ??= []).Add(e);
                    }
                }
                catch
                {
                    round.TrySetResult(null); // a failed round: callers tick themselves
                    throw;
                }
                SetLeader(leader);
                if (made)
                {
                    Interlocked.Increment(ref _ticksMade);
                    // This node's tail takes the batch as it is; when it cannot (it is behind, or the
                    // batch was too large to return), it reads the tick. Other nodes: the NOTIFY.
                    var handedOver = hasRows && !tooLarge;
                    if (!(handedOver && sink.TryPublishTick(tickId, (IReadOnlyList<LogEvent>?)events ?? [])))
                        notifier.SignalTick(tickId);
                    delay = pacing.AfterTick(handedOver ? events?.Count ?? 0 : settings.HandOffRows + 1, timeProvider.GetElapsedTime(lastMade));
                    lastMade = timeProvider.GetTimestamp();
                }
                else if (!leader)
                    delay = settings.FollowerInterval;
                else
                    delay = pacing.AfterNoTick(timeProvider.GetElapsedTime(lastMade));
            }
            finally
            {
                sink.EndRound();
            }
            round.TrySetResult(leader ? tickId : null);
            if (Volatile.Read(ref _failingSince) != 0) Interlocked.Exchange(ref _failingSince, 0);
            // The pause runs from the round's start: the rounds, not the gaps between them, are
            // Interval apart (a round that makes a tick takes ~0.5-1 ms, with its durable commit;
            // pausing a whole Interval after it made the looks 3.6 ms apart, not 2, and every
            // commit waited that much longer for its tick). A writer's opt-in NOTIFY
            // (docs/deploy.md) or a caller of NextRoundAsync cuts the pause short. At least a
            // quarter of the pause remains: rounds slowed by a loaded database do not run back to
            // back (WakeupSignal.Wait says how they did anyway until it honoured fractions of a
            // millisecond). An empty round that
            // waited in the database has made its looks there: the next follows at once (it pauses
            // only if the wait came back early).
            var elapsed = timeProvider.GetElapsedTime(roundStart);
            var pause = !made && leader && wait > TimeSpan.Zero
                ? delay - elapsed
                : (delay - elapsed > delay / 4 ? delay - elapsed : delay / 4);
            if (pause > TimeSpan.Zero)
                notifier.TickerWakeup.Wait(pause, stoppingToken);
        }
    }

    /// <summary>On a graceful stop another node need not wait for the lease to expire.</summary>
    private async Task ReleaseLeaseAsync()
    {
        if (!_leader) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            await LeaseReleaseSql.ReleaseAsync(connection, _owner, timeout.Token);
            LogLeaseReleased();
        }
        catch (Exception e)
        {
            LogReleaseFailed(e);
        }
        // Not SetLeader(false): its "another node makes the change log's ticks" need not be so (a
        // single node that stops), and this node is stopping, not following.
        _leader = false;
    }

    private void SetLeader(bool leader)
    {
        if (_leader == leader) return;
        _leader = leader;
        if (leader) LogLeader(); else LogFollower();
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "This node now makes the change log's ticks")]
    private partial void LogLeader();

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Another node makes the change log's ticks")]
    private partial void LogFollower();

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "Ticking failed; retrying in {DelayMs} ms")]
    private partial void LogTickFailed(Exception exception, double delayMs);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Releasing the ticker lease at shutdown failed; another node takes over when it expires")]
    private partial void LogReleaseFailed(Exception exception);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Information, Message = "This node stopped making the change log's ticks and released the ticker lease")]
    private partial void LogLeaseReleased();
}
