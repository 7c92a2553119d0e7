namespace EventHub.Retention;

/// <summary>Deletes the log's prefix through retention's cut (<see cref="RetentionCutSql"/>).</summary>
public static class PrunedRowsDeleteSql
{
    /// <summary>
    /// The prefix through the cut (<c>@tick</c>, <c>@xid</c>, <c>@seq</c>): the batches of the ticks
    /// still kept up to <c>@tick</c> (those of dropped ticks are gone already), <c>@tick</c>'s up to
    /// the cut, each read as the stream reads it (one index probe per ended xid, one range scan),
    /// and deleted by primary key. (As "visible in the cut tick's snapshot" it was planned without
    /// the tick's bounds: a Seq Scan of change_log per prune pass, LargeStatePlanTests.)
    /// </summary>
    public const string Text = """
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
}
