namespace EventHub.Retention;

/// <summary>
/// Where retention cuts the log: the newest position that is too old (the newest tick made before
/// the age limit) or beyond the size limit (the row that many from the newest by seq, placed in its
/// tick: the first tick whose snapshot sees its transaction), but no more than a batch of rows from
/// the start of what remains. One row <c>(tick_id, tx_id, seq)</c>, or none when nothing is due.
/// </summary>
public static class RetentionCutSql
{
    /// <summary>
    /// Parameters: <c>@maxAge</c>, <c>@maxEvents</c> (either may be null), <c>@batch</c>.
    /// LargeStatePlanTests checks its plan on a large log.
    /// </summary>
    public static readonly string Text = $"""
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
        -- c.tx_id, not tx_id: a bare name in ORDER BY is the output column, here tx_id::text, whose
        -- order is not the log's ('1006' sorts before '999', and by_age's '18446744073709551615'
        -- before most ids: the cut went past the batch's end or the wanted position whenever both
        -- lay in one tick; RetentionCutTests).
        SELECT c.tick_id, c.tx_id::text, c.seq FROM (
            SELECT * FROM wanted
            UNION ALL SELECT * FROM batch_end WHERE EXISTS (SELECT 1 FROM wanted)
        ) c ORDER BY c.tick_id, c.tx_id, c.seq LIMIT 1
        """;

    /// <summary>
    /// The first <paramref name="limit"/> rows of tick <c>t</c>'s batch in each of its parts, as
    /// the stream reads them: one index probe per ended xid, the range in the gaps between the xids
    /// the tick's snapshot saw running (read whole and filtered by visibility, a tick made beside a
    /// bulk load walked the load's rows at every pass that started there; LargeLogPlanTests).
    /// </summary>
    private static string TickRows(string limit) => $"""
        (SELECT e.tx_id, e.seq FROM unnest(t.ended) AS d(x)
         CROSS JOIN LATERAL (SELECT c.tx_id, c.seq FROM change_log c WHERE c.tx_id = d.x ORDER BY c.seq LIMIT {limit}) e
         ORDER BY e.tx_id, e.seq LIMIT {limit})
        UNION ALL
        (SELECT c.tx_id, c.seq FROM change_log c
         WHERE c.tx_id >= t.lo AND c.tx_id < coalesce((SELECT min(x) FROM pg_snapshot_xip(t.snap) AS x WHERE x >= t.lo), t.hi)
           AND pg_visible_in_snapshot(c.tx_id, t.snap)
         ORDER BY c.tx_id, c.seq LIMIT {limit})
        UNION ALL
        (SELECT g.tx_id, g.seq FROM (SELECT ARRAY(SELECT x FROM pg_snapshot_xip(t.snap) AS x WHERE x >= t.lo) AS r) seen
         CROSS JOIN LATERAL unnest(seen.r, seen.r[2:] || t.hi) AS gap(after, before)
         CROSS JOIN LATERAL (SELECT c.tx_id, c.seq FROM change_log c
                             WHERE c.tx_id > gap.after AND c.tx_id < gap.before AND pg_visible_in_snapshot(c.tx_id, t.snap)
                             ORDER BY c.tx_id, c.seq LIMIT {limit}) g
         WHERE gap.after IS NOT NULL
         LIMIT {limit})
        """;
}
