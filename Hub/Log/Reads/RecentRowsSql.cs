namespace EventHub.Log;

/// <summary>
/// The read that fills the recent-events window: the log's newest rows, newest first, each tick's
/// batch read as <see cref="TickBatchSql"/> reads it, backwards.
/// </summary>
public static class RecentRowsSql
{
    /// <summary>
    /// The newest rows up to the end of tick <c>@tick</c>, newest first: <c>@limit</c> rows from at
    /// most <c>@limit</c> ticks. Header: <c>first_tick</c> and <c>ticks</c> (the oldest tick examined
    /// and how many) and the retention bound.
    /// </summary>
    public static string Text { get; } = Build();

    /// <summary>Ordinals of <see cref="Text"/>'s own header columns; the rest are <see cref="TickBatchSql"/>'s.</summary>
    internal const int FirstTick = 0, Ticks = 1;

    private static string Build()
    {
        var perTick = TickBatchSql.PerTick(EventFilter.All, descending: true);
        return $"""
            SELECT h.first_tick, h.ticks, h.pruned_tick, h.pruned_xid, h.pruned_seq, {TickBatchSql.RowColumns}
            FROM (SELECT z.first_tick, z.ticks,
                         p.pruned_through_tick AS pruned_tick, p.pruned_through_xid::text AS pruned_xid,
                         p.pruned_through_seq AS pruned_seq
                  FROM eventhub_retention p,
                       (SELECT min(tick_id) AS first_tick, count(*) AS ticks
                        FROM (SELECT tick_id FROM eventhub_tick WHERE tick_id <= @tick ORDER BY tick_id DESC LIMIT @limit) y) z) h
            LEFT JOIN LATERAL (
                SELECT t.tick_id, b.*
                FROM (SELECT * FROM eventhub_tick WHERE tick_id <= @tick ORDER BY tick_id DESC LIMIT @limit) t
                CROSS JOIN LATERAL ({perTick}) b
                ORDER BY t.tick_id DESC, b.tx_id DESC, b.seq DESC
                LIMIT @limit
            ) r ON true
            ORDER BY r.tick_id DESC, r.tx_id DESC, r.seq DESC
            """;
    }
}
