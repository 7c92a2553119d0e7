using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.Retention;

/// <summary>
/// Prunes <c>change_log</c> by age and/or size. It deletes a <em>prefix</em> of the log in
/// position order <c>(tick, tx_id, seq)</c>, never rows in the middle, records the last pruned
/// position in <c>eventhub_retention</c> in the same transaction, and drops the ticks before the
/// one it stopped in. Readers get that position with every log read, so a client whose offset is
/// older than what remains gets an explicit reset instead of a silent gap. One node prunes at a
/// time (a transaction-scoped advisory lock). Its statements: <see cref="RetentionCutSql"/>,
/// <see cref="PrunedRowsDeleteSql"/>, <see cref="PrunedThroughSql"/>, <see cref="PrunedTicksDeleteSql"/>.
/// </summary>
/// <remarks>
/// The rows of ticks 1..P are exactly the rows visible in tick P's snapshot (below its xmax), so a
/// prefix is one index range scan with the snapshot as filter; inside tick P, its batch rows up to
/// the cut stay out of it by the same test the reads use. Rows in no tick yet are never touched.
/// </remarks>
public sealed partial class ChangeLogRetention(
    NpgsqlDataSource dataSource,
    Storage.PrimaryPools pools,
    IOptions<RetentionOptions> options,
    Streaming.Internal.RecentEventsWindow window,
    TimeProvider timeProvider,
    ILogger<ChangeLogRetention> logger) : BackgroundService
{
    private const long RetentionLockKey = 0x45_76_48_75_62_52_65_74; // "EvHubRet"

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            // A pass on a session the network lost without a reset waited for its command timeout
            // (30 s), or for good in its fold (no timeout): it gives up when the hub finds its
            // sessions lost, and the next pass runs on a new session (SilentConnectionLossTests).
            using var pass = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, pools.SessionsLost);
            try
            {
                long deleted;
                if (settings.Enabled)
                {
                    do deleted = await PruneOnceAsync(pass.Token);
                    while (deleted >= settings.BatchSize);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogFailed(e);
            }
            // On every node, pruning or not (another node may prune, and the ticking node's tail
            // reads nothing while it hands ticks over): the recent-events window lets go of what
            // retention deleted, so no node serves from memory an offset the log resets. One small
            // query an interval.
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(pass.Token);
                window.Prune(await PrunedMarkSql.ReadAsync(connection, pass.Token));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogMarkFailed(e); // the tail's next read brings the mark too
            }
            try { await Task.Delay(settings.Interval, timeProvider, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>Deletes at most one batch; returns the number of rows deleted.</summary>
    public async Task<long> PruneOnceAsync(CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        // The transaction's first statement: a short bound of its own (HubDataSources says why), no
        // risk for a lock that is taken at once or not at all.
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT pg_try_advisory_xact_lock(@key)", new { key = RetentionLockKey }, tx,
                commandTimeout: Storage.HubDataSources.TransactionFirstStatementTimeoutSeconds, cancellationToken: cancellationToken)))
            return 0; // another node is pruning

        var cut = await connection.QueryFirstOrDefaultAsync<(long tick, string tx, long seq)?>(new CommandDefinition(RetentionCutSql.Text, new
            {
                maxAge = settings.MaxAge,
                maxEvents = settings.MaxEvents,
                batch = settings.BatchSize,
            }, tx, cancellationToken: cancellationToken));
        if (cut is not { } c) return 0;

        var parameters = new { tick = c.tick, xid = c.tx, c.seq };
        // A tick's rows are folded into the live state after it when it is large or the state was
        // busy (migration 0020): fold every tick through the cut's before any of their rows go.
        await connection.ExecuteAsync(new CommandDefinition("SELECT eventhub_fold_pending(2147483647, @tick)", parameters, tx,
            commandTimeout: 0, cancellationToken: cancellationToken));
        // The live state is rebuilt after a crash from its base and every tick after the base's
        // mark (migration 0016): fold the ticks through the cut's into the base before any of
        // their rows go, in this transaction, so a rebuild never needs a pruned row.
        await connection.ExecuteAsync(new CommandDefinition("SELECT eventhub_advance_state_base(@tick)", parameters, tx,
            cancellationToken: cancellationToken));
        // Rows of earlier ticks: visible in tick P's snapshot but not in P's batch; rows of P's
        // batch: up to the cut.
        var deleted = await connection.ExecuteAsync(new CommandDefinition(PrunedRowsDeleteSql.Text, parameters, tx, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(PrunedThroughSql.Text, parameters, tx, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(PrunedTicksDeleteSql.Text, parameters, tx, cancellationToken: cancellationToken));
        await tx.CommitAsync(cancellationToken);
        if (deleted > 0) LogPruned(deleted, c.tick.ToString(CultureInfo.InvariantCulture), c.tx, c.seq.ToString(CultureInfo.InvariantCulture));
        return deleted;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Retention pruned {Count} change_log rows through tick {Tick} at ({Xid},{Seq})")]
    private partial void LogPruned(long count, string tick, string xid, string seq);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Retention failed; retrying at the next interval")]
    private partial void LogFailed(Exception exception);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Debug, Message = "Reading retention's mark for the recent-events window failed; retrying at the next interval")]
    private partial void LogMarkFailed(Exception exception);
}
