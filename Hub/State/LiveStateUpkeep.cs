using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.State;

/// <summary>
/// The live state's durable side (migration 0016): every <see cref="LiveStateOptions.RebuildCheckInterval"/>
/// it rebuilds the state if a crash emptied it (<c>eventhub_ensure_state</c>) and folds the ticks
/// the state is behind (<c>eventhub_fold_pending</c>, migration 0020; since migration 0022 every
/// tick is published unfolded and folded here, a second's ticks at once), and every
/// <see cref="LiveStateOptions.BaseInterval"/> it folds the ticks since the base's mark into the
/// durable base (<c>eventhub_advance_state_base</c>), so a rebuild reads at most that long a
/// stretch of the log, retention or not.
/// </summary>
/// <remarks>
/// Every node runs it. A rebuild or a fold holds the state lock (another node's waits for it, then
/// finds the state whole, or folded further); ticks go on meanwhile and leave their folds to the next
/// pass. The ticker's own statement could not do either, as its client-side timeout would cancel a
/// long one at every try, and every stream would wait for it. The base's mark row is locked for a pass, so passes of two nodes (or
/// one of retention's) take turns, and the later one finds little or nothing left to fold. A pass
/// never holds the tick lock: it folds ticks already committed, up to the newest its snapshot sees.
/// </remarks>
public sealed partial class LiveStateUpkeep(
    NpgsqlDataSource dataSource,
    Storage.PrimaryPools pools,
    IOptions<LiveStateOptions> options,
    TimeProvider timeProvider,
    ILogger<LiveStateUpkeep> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var nextAdvance = settings.BaseInterval > TimeSpan.Zero ? timeProvider.GetUtcNow() + settings.BaseInterval : DateTimeOffset.MaxValue;
        var delay = settings.RebuildCheckInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(delay, timeProvider, stoppingToken); }
            catch (OperationCanceledException) { break; }
            // A pass's statements have no timeout (a rebuild or a fold may take long): one on a
            // session the network lost without a reset waited for good, and the upkeep with it,
            // until the hub stopped. It gives up when the hub finds its sessions lost.
            using var pass = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, pools.SessionsLost);
            try
            {
                await EnsureWholeAsync(pass.Token);
                await FoldPendingAsync(pass.Token);
                if (timeProvider.GetUtcNow() >= nextAdvance)
                {
                    await AdvanceAsync(pass.Token);
                    nextAdvance = timeProvider.GetUtcNow() + settings.BaseInterval;
                }
                delay = settings.RebuildCheckInterval;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The database is down or restarting: one warning per try, tries further apart.
                LogFailed(e);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Max(MaxRetryDelay.Ticks, settings.RebuildCheckInterval.Ticks)));
            }
        }
    }

    /// <summary>Rebuilds the state if it is not whole (a crash emptied it); a probe of a one-row table otherwise.</summary>
    public async Task EnsureWholeAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await EnsureWholeAsync(connection, cancellationToken);
    }

    /// <summary>
    /// <see cref="EnsureWholeAsync(CancellationToken)"/> on a connection the caller holds (the state
    /// read's). READ COMMITTED (the hub's sessions' default, <see cref="Storage.HubDataSources"/>):
    /// the function looks again after the tick lock with a fresh snapshot. No client-side timeout: a
    /// rebuild takes as long as the log since the base's mark.
    /// </summary>
    /// <remarks>
    /// The upkeep's statements each run as a transaction of their own, not in one begun by
    /// <c>BeginTransactionAsync</c>: Npgsql sends that BEGIN ahead of the statement and does not
    /// honour the statement's cancellation while its answer is pending, so on a session the network
    /// had lost without a reset, a statement with no timeout never ended and the hub's stop waited
    /// out the host's 30 s (SilentConnectionLossTests). Nor does a transaction of the upkeep's stay
    /// open on the server, holding the state's lock, when its COMMIT is lost with the session.
    /// </remarks>
    internal static async Task EnsureWholeAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition("SELECT eventhub_ensure_state()",
            commandTimeout: 0, cancellationToken: cancellationToken));

    /// <summary>
    /// Folds every tick the state is behind, as of the call (<see cref="TicksPerStep"/> a
    /// transaction); returns the tick the state is folded through after it (a state that is not
    /// whole counts as folded: a rebuild's turn). A state read meanwhile answers as of the ticks
    /// folded so far.
    /// </summary>
    public async Task<long> FoldPendingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var newest = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT coalesce(max(tick_id), 0) FROM eventhub_tick", cancellationToken: cancellationToken));
        while (true)
        {
            // A transaction each (see EnsureWholeAsync's remarks).
            var through = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT eventhub_fold_pending(@step)",
                new { step = TicksPerStep }, commandTimeout: 0, cancellationToken: cancellationToken));
            if (through >= newest) return through;
        }
    }

    /// <summary>The longest pause between tries while the database fails them.</summary>
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    /// <summary>At most this many ticks are folded into the base per transaction.</summary>
    /// <remarks>
    /// A pass after minutes of heavy writing of new entities has a row to write per event (the bench's
    /// 8 writers: ~4,000 events a second, a tick every 50 ms under load, so ~200 events a tick): one
    /// transaction for all of them would be one burst of WAL, and of locks held, that long. Steps of
    /// 400 ticks (~80,000 events under that load, as 1,000 ticks were at the 20 ms pause before
    /// Ticker:BusyInterval became 50 ms) keep each to about what a retention pass folds.
    /// </remarks>
    public const int TicksPerStep = 400;

    /// <summary>Folds every tick up to the newest (as of the call) into the base; returns the base's mark after it.</summary>
    public async Task<long> AdvanceAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (newest, mark) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            "SELECT (SELECT coalesce(max(tick_id), 0) FROM eventhub_tick), (SELECT through_tick FROM eventhub_state_base_mark)",
            cancellationToken: cancellationToken));
        while (mark < newest)
        {
            // A transaction each (see EnsureWholeAsync's remarks); the mark is read after the commit,
            // and another node's pass (or retention) may have taken it further meanwhile.
            await connection.ExecuteAsync(new CommandDefinition("SELECT eventhub_advance_state_base(@through)",
                new { through = Math.Min(newest, mark + TicksPerStep) }, commandTimeout: 0, cancellationToken: cancellationToken));
            mark = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT through_tick FROM eventhub_state_base_mark", cancellationToken: cancellationToken));
        }
        return mark;
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "The live state's upkeep failed (rebuild check, pending fold or base fold); retrying at the next interval")]
    private partial void LogFailed(Exception exception);
}
