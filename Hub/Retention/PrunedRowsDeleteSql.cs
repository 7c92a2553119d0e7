namespace EventHub.Retention;

/// <summary>Deletes the log's prefix through retention's cut (<see cref="RetentionCutSql"/>).</summary>
public static class PrunedRowsDeleteSql
{
    /// <summary>
    /// The prefix through the cut (<c>@tick</c>, <c>@xid</c>, <c>@seq</c>): the batches of the ticks
    /// still kept up to <c>@tick</c> (those of dropped ticks are gone already), <c>@tick</c>'s up to
    /// the cut, each read as the stream reads it (one index probe per ended xid, one range scan),
    /// and deleted by primary key. (As "visible in the cut tick's snapshot" it was planned without
    /// the tick's bounds: a Seq Scan of change_log per prune pass, LargeStatePlanTests.) The cut
    /// tick's parts stop at the cut, each bound an index condition: read whole and filtered after,
    /// every pass through a large transaction read its rest (passes of 10,000 inside a 100,000-row
    /// one read 110,000, 100,000, 90,000, ... index entries, 210,001 for the first when a tick made
    /// beside it walked it too; LargeLogPlanTests), so pruning it read ~50 times its rows. The
    /// outer filter stays, the cut's definition.
    /// </summary>
    public const string Text = """
        DELETE FROM change_log d WHERE d.seq = ANY (ARRAY(
            SELECT b.seq
            FROM (SELECT * FROM eventhub_tick WHERE tick_id <= @tick ORDER BY tick_id) t
            -- The range is read in the gaps between the xids the tick's snapshot saw running (as
            -- TickBatchSql does: a tick made beside a bulk load walked the load's rows), up to the
            -- cut's xid in the cut tick.
            CROSS JOIN LATERAL (SELECT ARRAY(SELECT x FROM pg_snapshot_xip(t.snap) AS x WHERE x >= t.lo) AS running,
                                       CASE WHEN t.tick_id = @tick THEN least(t.hi, @xid::xid8) ELSE t.hi END AS upto) k
            CROSS JOIN LATERAL (
                SELECT e.tx_id, e.seq FROM unnest(t.ended) AS x(id)
                CROSS JOIN LATERAL (SELECT c.tx_id, c.seq FROM change_log c
                                    WHERE c.tx_id = x.id
                                      AND c.seq <= (CASE WHEN t.tick_id = @tick AND x.id = @xid::xid8 THEN @seq ELSE 9223372036854775807 END)
                                    ORDER BY c.seq OFFSET 0) e
                WHERE t.tick_id < @tick OR x.id <= @xid::xid8
                UNION ALL
                (SELECT c.tx_id, c.seq FROM change_log c
                 WHERE c.tx_id >= t.lo
                   AND c.tx_id < least(coalesce(k.running[1], t.hi), k.upto)
                   AND pg_visible_in_snapshot(c.tx_id, t.snap)
                 ORDER BY c.tx_id, c.seq)
                UNION ALL
                (SELECT g.tx_id, g.seq FROM unnest(k.running, k.running[2:] || t.hi) AS w(after, before)
                 CROSS JOIN LATERAL (SELECT c.tx_id, c.seq FROM change_log c
                                     WHERE c.tx_id > w.after AND c.tx_id < least(w.before, k.upto)
                                       AND pg_visible_in_snapshot(c.tx_id, t.snap)
                                     ORDER BY c.tx_id, c.seq) g
                 WHERE w.after IS NOT NULL)
                UNION ALL
                (SELECT c.tx_id, c.seq FROM change_log c
                 WHERE t.tick_id = @tick AND @xid::xid8 >= t.lo AND @xid::xid8 < t.hi
                   AND c.tx_id = @xid::xid8 AND c.seq <= @seq AND pg_visible_in_snapshot(c.tx_id, t.snap)
                 ORDER BY c.seq)) b
            WHERE t.tick_id < @tick OR b.tx_id < @xid::xid8 OR (b.tx_id = @xid::xid8 AND b.seq <= @seq)))
        """;
}
