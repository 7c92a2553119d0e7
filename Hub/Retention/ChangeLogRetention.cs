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
/// time (a transaction-scoped advisory lock).
/// </summary>
/// <remarks>
/// The rows of ticks 1..P are exactly the rows visible in tick P's snapshot (below its xmax), so a
/// prefix is one index range scan with the snapshot as filter; inside tick P, its batch rows up to
/// the cut stay out of it by the same test the reads use. Rows in no tick yet are never touched.
/// </remarks>
public sealed partial class ChangeLogRetention(
    NpgsqlDataSource dataSource,
    IOptions<RetentionOptions> options,
    TimeProvider timeProvider,
    ILogger<ChangeLogRetention> logger) : BackgroundService
{
    private const long RetentionLockKey = 0x45_76_48_75_62_52_65_74; // "EvHubRet"

    /// <summary>
    /// The cut (parameters <c>@maxAge</c>, <c>@maxEvents</c>, <c>@batch</c>): the newest position
    /// that is too old or beyond the size limit, but no more than <c>@batch</c> rows from the start
    /// of what remains. LargeStatePlanTests checks its plan on a large log.
    /// </summary>
    internal static readonly string CutSql = $"""
        WITH RECURSIVE by_age AS (
            SELECT t.tick_id, '18446744073709551615'::xid8 AS tx_id, 9223372036854775807 AS seq
            FROM eventhub_tick t
            WHERE @maxAge::interval IS NOT NULL AND t.created_at < now() - @maxAge::interval
            ORDER BY t.created_at DESC LIMIT 1),
        kept_from AS (
            -- The OFFSET walks seq alone (the primary key, index-only once vacuumed); one lookup then.
            SELECT c.tx_id, c.seq FROM change_log c
            WHERE c.seq = (SELECT k.seq FROM change_log k
                           WHERE @maxEvents::bigint IS NOT NULL
                           ORDER BY k.seq DESC OFFSET coalesce(@maxEvents::bigint, 0) LIMIT 1)),
        by_size AS (
            SELECT eventhub_tick_of(k.tx_id) AS tick_id, k.tx_id, k.seq
            FROM kept_from k),
        wanted AS (
            SELECT * FROM (SELECT * FROM by_age UNION ALL SELECT * FROM by_size WHERE tick_id IS NOT NULL) w
            ORDER BY tick_id DESC, tx_id DESC, seq DESC LIMIT 1),
        -- The ticks in order with the rows before each, until @batch rows are passed: a pass reads
        -- about @batch rows however long the log. (Sorting the first @batch rows of every tick, as
        -- this did, read every tick's rows whenever the planner chose a full Sort over an
        -- incremental one: 254,970 rows for a batch of 10,000, LargeStatePlanTests.) The walk
        -- starts before tick 1 (tick_id 0, no rows); each step counts the next tick's rows only up
        -- to what the batch still needs.
        walk AS (
            SELECT 0::bigint AS tick_id, 0::bigint AS before, 0::bigint AS rows
            UNION ALL
            SELECT t.tick_id, w.before + w.rows, n.rows
            FROM walk w
            CROSS JOIN LATERAL (SELECT * FROM eventhub_tick k WHERE k.tick_id > w.tick_id ORDER BY k.tick_id LIMIT 1) t
            CROSS JOIN LATERAL (SELECT count(*) AS rows FROM ({TickRows("@batch - w.before - w.rows")}) x) n
            WHERE w.before + w.rows < @batch),
        -- The @batch-th row (or the last walked): in the last tick walked, after the rows before it.
        batch_end AS (
            SELECT w.tick_id, r.tx_id, r.seq
            FROM (SELECT * FROM walk ORDER BY tick_id DESC LIMIT 1) w
            JOIN eventhub_tick t ON t.tick_id = w.tick_id
            CROSS JOIN LATERAL (SELECT u.tx_id, u.seq FROM ({TickRows("@batch - w.before")}) u
                ORDER BY u.tx_id, u.seq OFFSET greatest(least(w.rows, @batch - w.before) - 1, 0) LIMIT 1) r)
        SELECT tick_id, tx_id::text, seq FROM (
            SELECT * FROM wanted
            UNION ALL SELECT * FROM batch_end WHERE EXISTS (SELECT 1 FROM wanted)
        ) c ORDER BY tick_id, tx_id, seq LIMIT 1
        """;

    /// <summary>
    /// The first <paramref name="limit"/> rows of tick <c>t</c>'s batch in each of its two parts, as
    /// the stream reads them: one index probe per ended xid, one range scan.
    /// </summary>
    private static string TickRows(string limit) => $"""
        (SELECT e.tx_id, e.seq FROM unnest(t.ended) AS d(x)
         CROSS JOIN LATERAL (SELECT c.tx_id, c.seq FROM change_log c WHERE c.tx_id = d.x ORDER BY c.seq LIMIT {limit}) e
         ORDER BY e.tx_id, e.seq LIMIT {limit})
        UNION ALL
        (SELECT c.tx_id, c.seq FROM change_log c
         WHERE c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap)
         ORDER BY c.tx_id, c.seq LIMIT {limit})
        """;

    /// <summary>
    /// The prefix through the cut (<c>@tick</c>, <c>@xid</c>, <c>@seq</c>): the batches of the ticks
    /// still kept up to <c>@tick</c> (those of dropped ticks are gone already), <c>@tick</c>'s up to
    /// the cut, each read as the stream reads it (one index probe per ended xid, one range scan),
    /// and deleted by primary key. (As "visible in the cut tick's snapshot" it was planned without
    /// the tick's bounds: a Seq Scan of change_log per prune pass, LargeStatePlanTests.)
    /// </summary>
    internal const string DeleteSql = """
        DELETE FROM change_log d WHERE d.seq = ANY (ARRAY(
            SELECT b.seq
            FROM (SELECT * FROM eventhub_tick WHERE tick_id <= @tick ORDER BY tick_id) t
            CROSS JOIN LATERAL (
                SELECT e.tx_id, e.seq FROM unnest(t.ended) AS x(id)
                CROSS JOIN LATERAL (SELECT c.tx_id, c.seq FROM change_log c WHERE c.tx_id = x.id ORDER BY c.seq OFFSET 0) e
                UNION ALL
                (SELECT c.tx_id, c.seq FROM change_log c
                 WHERE c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap)
                 ORDER BY c.tx_id, c.seq)) b
            WHERE t.tick_id < @tick OR b.tx_id < @xid::xid8 OR (b.tx_id = @xid::xid8 AND b.seq <= @seq)))
        """;

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

        // The cut: the newest position that is too old (the newest tick made before MaxAge) or
        // beyond the size limit (the row MaxEvents from the newest by seq, placed in its tick: the
        // first tick whose snapshot sees its transaction), but no more than BatchSize rows from the
        // start of what remains.
        var cut = await connection.QueryFirstOrDefaultAsync<(long tick, string tx, long seq)?>(new CommandDefinition(CutSql, new
            {
                maxAge = settings.MaxAge,
                maxEvents = settings.MaxEvents,
                batch = settings.BatchSize,
            }, tx, cancellationToken: cancellationToken));
        if (cut is not { } c) return 0;

        var parameters = new { tick = c.tick, xid = c.tx, c.seq };
        // The live state is rebuilt after a crash from its base and every tick after the base's
        // mark (migration 0016): fold the ticks through the cut's into the base before any of
        // their rows go, in this transaction, so a rebuild never needs a pruned row.
        await connection.ExecuteAsync(new CommandDefinition("SELECT eventhub_advance_state_base(@tick)", parameters, tx,
            cancellationToken: cancellationToken));
        // Rows of earlier ticks: visible in tick P's snapshot but not in P's batch; rows of P's
        // batch: up to the cut.
        var deleted = await connection.ExecuteAsync(new CommandDefinition(DeleteSql, parameters, tx, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE eventhub_retention
            SET pruned_through_tick = @tick, pruned_through_xid = @xid::xid8, pruned_through_seq = @seq, pruned_at = now()
            WHERE (pruned_through_tick, pruned_through_xid, pruned_through_seq) < (@tick, @xid::xid8, @seq)
            """, parameters, tx, cancellationToken: cancellationToken));
        // Tick P stays: its end is still a valid offset, and the ticker needs the newest tick.
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM eventhub_tick WHERE tick_id < @tick", parameters, tx, cancellationToken: cancellationToken));
        await tx.CommitAsync(cancellationToken);
        if (deleted > 0) LogPruned(deleted, c.tick.ToString(CultureInfo.InvariantCulture), c.tx, c.seq.ToString(CultureInfo.InvariantCulture));
        return deleted;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Retention pruned {Count} change_log rows through tick {Tick} at ({Xid},{Seq})")]
    private partial void LogPruned(long count, string tick, string xid, string seq);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Retention failed; retrying at the next interval")]
    private partial void LogFailed(Exception exception);
}
