using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.Retention;

/// <summary>
/// Prunes <c>change_log</c> by age and/or size. It deletes a <em>prefix</em> of the log in
/// position order, never rows in the middle, and records the last pruned position in
/// <c>eventhub_retention</c> in the same transaction. Readers get that position with every log
/// read, so a client whose offset is older than what remains gets an explicit reset instead of a
/// silent gap. One node prunes at a time (a transaction-scoped advisory lock).
/// </summary>
public sealed partial class ChangeLogRetention(
    NpgsqlDataSource dataSource,
    IOptions<RetentionOptions> options,
    TimeProvider timeProvider,
    ILogger<ChangeLogRetention> logger) : BackgroundService
{
    private const long RetentionLockKey = 0x45_76_48_75_62_52_65_74; // "EvHubRet"

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                long deleted;
                do deleted = await PruneOnceAsync(stoppingToken);
                while (deleted >= settings.BatchSize);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogFailed(e);
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
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT pg_try_advisory_xact_lock(@key)", new { key = RetentionLockKey }, tx, cancellationToken: cancellationToken)))
            return 0; // another node is pruning

        // The cut: the newest final row that is too old or beyond the size limit, but no more
        // than BatchSize rows past the start. Only final rows (older than every running
        // transaction) are considered, so no row can later appear before the cut.
        var cut = await connection.QueryFirstOrDefaultAsync<(string tx, long seq)?>(new CommandDefinition("""
            WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
            by_age AS (
                SELECT c.tx_id, c.seq FROM change_log c, h
                WHERE @maxAge::interval IS NOT NULL AND c.tx_id < h.xmin AND c.created_at < now() - @maxAge::interval
                ORDER BY c.tx_id DESC, c.seq DESC LIMIT 1),
            by_size AS (
                SELECT c.tx_id, c.seq FROM change_log c, h
                WHERE @maxEvents::bigint IS NOT NULL AND c.tx_id < h.xmin
                ORDER BY c.tx_id DESC, c.seq DESC OFFSET coalesce(@maxEvents::bigint, 0) LIMIT 1),
            wanted AS (
                SELECT tx_id, seq FROM (SELECT * FROM by_age UNION ALL SELECT * FROM by_size) w
                ORDER BY tx_id DESC, seq DESC LIMIT 1),
            batch_end AS (
                SELECT tx_id, seq FROM change_log ORDER BY tx_id, seq OFFSET @batch - 1 LIMIT 1)
            SELECT tx_id::text, seq FROM (
                SELECT * FROM wanted
                UNION ALL SELECT * FROM batch_end WHERE EXISTS (SELECT 1 FROM wanted)
            ) c ORDER BY tx_id, seq LIMIT 1
            """, new
            {
                maxAge = settings.MaxAge,
                maxEvents = settings.MaxEvents,
                batch = settings.BatchSize,
            }, tx, cancellationToken: cancellationToken));
        if (cut is not { } c) return 0;

        var parameters = new { xid = c.tx, c.seq };
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM change_log WHERE (tx_id, seq) <= (@xid::xid8, @seq)", parameters, tx, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE eventhub_retention
            SET pruned_through_xid = @xid::xid8, pruned_through_seq = @seq, pruned_at = now()
            WHERE (pruned_through_xid, pruned_through_seq) < (@xid::xid8, @seq)
            """, parameters, tx, cancellationToken: cancellationToken));
        await tx.CommitAsync(cancellationToken);
        if (deleted > 0) LogPruned(deleted, c.tx, c.seq.ToString(CultureInfo.InvariantCulture));
        return deleted;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Retention pruned {Count} change_log rows through ({Xid},{Seq})")]
    private partial void LogPruned(long count, string xid, string seq);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Retention failed; retrying at the next interval")]
    private partial void LogFailed(Exception exception);
}
