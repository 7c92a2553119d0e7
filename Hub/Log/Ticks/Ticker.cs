using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// Makes the log's ticks (migration 0007, <c>eventhub_tick</c>): while it holds the lease, it
/// calls the tick function every <see cref="TickerOptions.Interval"/>; the function stores a
/// snapshot only when a committed row is in no tick yet, and NOTIFYs every hub of the new tick.
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
    PostgresChangeNotifier notifier,
    IOptions<TickerOptions> options,
    TimeProvider timeProvider,
    ILogger<Ticker> logger) : BackgroundService
{
    private readonly Guid _owner = Guid.NewGuid();
    private volatile bool _leader;
    private long _ticksMade;
    private TaskCompletionSource<long?> _nextRound = new(TaskCreationOptions.RunContinuationsAsynchronously);

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
        var round = Volatile.Read(ref _nextRound).Task;
        notifier.TickerWakeup.Signal();
        return round;
    }

    /// <summary>Whether this node holds the lease now.</summary>
    public bool IsLeader => _leader;

    /// <summary>Ticks this node made.</summary>
    public long TicksMade => Interlocked.Read(ref _ticksMade);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            _nextRound.TrySetResult(null); // never the leader: callers tick themselves
            return;
        }
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                await using (var setup = new NpgsqlCommand("SET synchronous_commit = on", connection))
                    await setup.ExecuteNonQueryAsync(stoppingToken);
                await using (var recovery = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection))
                    if ((bool)(await recovery.ExecuteScalarAsync(stoppingToken))!)
                        throw new InvalidOperationException("The ticker's database is a standby; ticks are made on the primary.");
                await TickAsync(connection, settings, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                Interlocked.Exchange(ref _nextRound, new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously))
                    .TrySetResult(null);
                SetLeader(false);
                LogTickFailed(e, backoff.TotalMilliseconds);
                try { await Task.Delay(backoff, timeProvider, stoppingToken); }
                catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
                continue;
            }
        }
        await ReleaseLeaseAsync();
    }

    private async Task TickAsync(NpgsqlConnection connection, TickerOptions settings, CancellationToken stoppingToken)
    {
        await using var tick = new NpgsqlCommand("SELECT tick_id, made, leader FROM eventhub_tick(@owner, @lease)", connection);
        tick.Parameters.AddWithValue("owner", _owner);
        tick.Parameters.AddWithValue("lease", settings.Lease);
        await tick.PrepareAsync(stoppingToken);
        var delay = settings.Interval;
        var lastMade = timeProvider.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            long tickId = 0;
            bool made = false, leader = false;
            var round = Interlocked.Exchange(ref _nextRound, new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously));
            try
            {
                await using (var reader = await tick.ExecuteReaderAsync(stoppingToken))
                    if (await reader.ReadAsync(stoppingToken))
                    {
                        leader = reader.GetBoolean(2);
                        if (leader)
                        {
                            tickId = reader.GetInt64(0);
                            made = reader.GetBoolean(1);
                        }
                    }
            }
            finally
            {
                round.TrySetResult(leader ? tickId : null); // a failed round: callers tick themselves
            }
            SetLeader(leader);
            if (made)
            {
                Interlocked.Increment(ref _ticksMade);
                notifier.SignalTick(tickId); // this node's tail at once; other nodes by the NOTIFY
                lastMade = timeProvider.GetTimestamp();
                delay = settings.Interval;
            }
            else if (!leader)
                delay = settings.FollowerInterval;
            else if (timeProvider.GetElapsedTime(lastMade) > settings.IdleAfter)
                delay = TimeSpan.FromTicks(Math.Min(Math.Max(delay.Ticks, settings.Interval.Ticks) * 2, settings.IdleInterval.Ticks));
            else
                delay = settings.Interval;
            // A writer's opt-in NOTIFY (docs/deploy.md) or a caller of NextRoundAsync cuts the pause short.
            await notifier.TickerWakeup.WaitAsync(delay, stoppingToken);
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
            await using var release = new NpgsqlCommand(
                "UPDATE eventhub_ticker SET expires_at = '-infinity' WHERE owner = @owner", connection);
            release.Parameters.AddWithValue("owner", _owner);
            await release.ExecuteNonQueryAsync(timeout.Token);
        }
        catch (Exception e)
        {
            LogReleaseFailed(e);
        }
        SetLeader(false);
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
}
