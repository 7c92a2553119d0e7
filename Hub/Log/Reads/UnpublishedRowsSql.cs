using Dapper;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// Counts the committed rows after a position (the tail's lag in events), up to a cap: the rows no
/// tick up to the position's tick holds, and the rest of that tick after the position.
/// </summary>
/// <remarks>
/// Positions go by tick, not by <c>(tx_id, seq)</c>: a transaction that was open across tick N
/// commits into a later tick with an xid below everything N holds, and the tail's position is
/// usually the end of a tick (<see cref="LogPosition.EndOf"/>), above every row. Counting
/// <c>(tx_id, seq) &gt; position</c>, as the sampler did, read 0 whenever the tail stood at a
/// tick's end and never counted a long transaction's rows. The rows a tick does not hold are
/// those its snapshot does not see: xids from its <c>xmax</c> on, and those it saw in progress.
/// Each part is an index range scan (or probes) of <c>change_log_position_idx</c> in position
/// order with the cap as its LIMIT, so a sample costs at most the cap's rows however far behind
/// the tail is (the unbounded count took 39 ms a sample on a 600,000-row log while behind).
/// Rows of transactions still in progress are never walked (migration 0019's reason): the rows
/// from the tick's <c>xmax</c> on are probed in the gaps between the xids running now, up to the
/// sample's own <c>xmax</c>, and of the xids the tick saw in progress only those that have ended
/// are probed. Both parts had walked a bulk load in progress, invisible row by invisible row:
/// 200-630 ms a sample every 2 s during a 300,000-row load (lab, stop 40), a core's share taken
/// from the tail and the writers while it ran.
/// The rest of the position's tick reads its range in the gaps between the xids the tick's
/// snapshot saw running, as <see cref="TickBatchSql"/> does: a tail standing inside a tick made
/// while a load ran walked the load's rows at every sample (100,008 index entries beside a
/// 100,000-row load; LargeLogPlanTests).
/// The tick's part after a cursor starts at one row bound never below <c>lo</c>, and the rest of
/// the cursor's own transaction among the ended xids at the cursor, as <see cref="TickBatchSql"/>'s
/// parts do (a row comparison beside <c>tx_id = ANY(ended)</c> walked a large transaction from its
/// first row).
/// </remarks>
public static class UnpublishedRowsSql
{
    /// <summary>Parameters: <c>@tick</c>, <c>@x</c> (xid as text) and <c>@s</c> (the position), <c>@cap</c>. No row when the tick is unknown (pruned).</summary>
    public const string AfterTick = """
        SELECT (SELECT count(*) FROM (
                    SELECT 1 FROM (
                        (SELECT 1 FROM change_log c
                         WHERE c.tx_id >= t.hi AND c.tx_id < coalesce(r.running[1], pg_snapshot_xmax(r.cur))
                         ORDER BY c.tx_id, c.seq LIMIT @cap)
                        UNION ALL
                        (SELECT 1 FROM unnest(r.running, r.running[2:] || pg_snapshot_xmax(r.cur)) AS g(after, before)
                         CROSS JOIN LATERAL (SELECT 1 FROM change_log c WHERE c.tx_id > g.after AND c.tx_id < g.before
                                             ORDER BY c.tx_id, c.seq LIMIT @cap) z
                         LIMIT @cap)
                        UNION ALL
                        (SELECT 1 FROM change_log c WHERE c.tx_id = ANY (r.ended)
                         ORDER BY c.tx_id, c.seq LIMIT @cap)
                        UNION ALL
                        (SELECT 1 FROM change_log c
                         WHERE (c.tx_id, c.seq) > (@x::xid8, @s) AND c.tx_id <= @x::xid8 AND @x::xid8 = ANY (t.ended)
                         ORDER BY c.tx_id, c.seq LIMIT @cap)
                        UNION ALL
                        (SELECT 1 FROM change_log c
                         WHERE c.tx_id = ANY (t.ended) AND c.tx_id > @x::xid8
                         ORDER BY c.tx_id, c.seq LIMIT @cap)
                        UNION ALL
                        (SELECT 1 FROM change_log c
                         WHERE (c.tx_id, c.seq) > (CASE WHEN @x::xid8 >= t.lo THEN @x::xid8 ELSE t.lo END,
                                                   CASE WHEN @x::xid8 >= t.lo THEN @s ELSE -1 END)
                           AND c.tx_id < coalesce(r.seen_running[1], t.hi) AND pg_visible_in_snapshot(c.tx_id, t.snap)
                         ORDER BY c.tx_id, c.seq LIMIT @cap)
                        UNION ALL
                        (SELECT 1 FROM unnest(r.seen_running, r.seen_running[2:] || t.hi) AS w(after, before)
                         CROSS JOIN LATERAL (
                             SELECT 1 FROM change_log c
                             WHERE (c.tx_id, c.seq) > (CASE WHEN @x::xid8 >= t.lo AND @x::xid8 > w.after THEN @x::xid8 ELSE w.after END,
                                                       CASE WHEN @x::xid8 >= t.lo AND @x::xid8 > w.after THEN @s ELSE 9223372036854775807 END)
                               AND c.tx_id < w.before AND pg_visible_in_snapshot(c.tx_id, t.snap)
                             ORDER BY c.tx_id, c.seq LIMIT @cap) z
                         WHERE w.after IS NOT NULL
                         LIMIT @cap)
                    ) u LIMIT @cap) n)
        FROM eventhub_tick t
        CROSS JOIN LATERAL (
            -- A pg_snapshot keeps its xip ascending (pg_current_snapshot sorts it): the gaps come in order.
            SELECT s.cur,
                   ARRAY(SELECT x FROM pg_snapshot_xip(s.cur) AS x WHERE x >= t.hi) AS running,
                   ARRAY(SELECT x FROM pg_snapshot_xip(t.snap) AS x WHERE pg_visible_in_snapshot(x, s.cur)) AS ended,
                   ARRAY(SELECT x FROM pg_snapshot_xip(t.snap) AS x WHERE x >= t.lo) AS seen_running
            FROM (SELECT pg_current_snapshot() AS cur) s) r
        WHERE t.tick_id = @tick
        """;

    /// <summary>Before the first tick every committed row is unpublished. Parameter: <c>@cap</c>.</summary>
    public const string BeforeAnyTick = "SELECT count(*) FROM (SELECT 1 FROM change_log LIMIT @cap) n";

    /// <summary>
    /// The committed rows after <paramref name="position"/>, at most <paramref name="cap"/>; null
    /// when the position's tick is no longer in the log (pruned).
    /// </summary>
    public static async Task<long?> CountAsync(NpgsqlConnection connection, LogPosition position, int cap, CancellationToken cancellationToken)
    {
        // A sample that cannot finish quickly is skipped (the gauge keeps its last value).
        const int timeoutSeconds = 5;
        var command = position.Tick == 0
            ? new CommandDefinition(BeforeAnyTick, new { cap }, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken)
            : new CommandDefinition(AfterTick, new
            {
                tick = position.Tick,
                x = position.TransactionId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                s = position.Seq,
                cap,
            }, commandTimeout: timeoutSeconds, cancellationToken: cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<long?>(command);
    }
}
