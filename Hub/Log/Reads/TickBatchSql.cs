namespace EventHub.Log;

/// <summary>
/// The SQL of a forward read in tick order: the rest of the tick the cursor is in, then the
/// following ticks, each tick's batch read by index range scans in <c>(tx_id, seq)</c> order.
/// </summary>
/// <remarks>
/// A tick's batch has two parts (migration 0007): <c>tx_id = ANY(ended)</c>, and the range
/// <c>[lo, hi)</c> filtered by the tick's snapshot, read in the gaps between the xids that snapshot
/// saw in progress. Every ended xid is below <c>lo</c>, so each part is one scan of
/// <c>change_log_position_idx</c> (or the per-project index, or one per gap), concatenated in order
/// with a LIMIT: a read never sorts the remainder of the log.
/// Plan traps guarded here (measured, docs/core-v2-plan.md section 3; PlannerTests, LargeLogPlanTests):
/// the tick bounds must reach the inner scan as parameters (a LATERAL join; joined from a CTE they
/// became a join filter and the scan ran to the end of the log), and the range part must start at
/// one row bound that is never below <c>lo</c> (a cursor row bound beside a separate
/// <c>tx_id &gt;= lo</c> made btree start at the cursor, below <c>lo</c>, and read up to the tick);
/// and the ended part, too, must start at the cursor's row (bounded by its xid alone, or by a row
/// comparison beside it, btree read a large transaction that spanned ticks from its first row on
/// every page).
/// </remarks>
public static class TickBatchSql
{
    /// <summary>The columns every read returns per row.</summary>
    internal const string RowColumns = $"r.tick_id, r.tx_id::text AS tx, r.seq, r.project_id, r.session_id, r.event_type, {PayloadColumn}, r.created_at";

    private const string PayloadColumn = "r.payload::text AS payload";

    /// <summary>
    /// A forward read's payload: null past the page's payload bound (<c>@bytes</c>), counted as
    /// stored (<c>pg_column_size</c>, no TOAST fetch) over the rows before it in the page's order.
    /// </summary>
    private const string BoundedPayloadColumn = "CASE WHEN r.stored_before < @bytes THEN r.payload::text END AS payload";

    /// <summary>
    /// Column ordinals of <see cref="Forward"/>'s rows: the header, then <see cref="RowColumns"/>
    /// (<see cref="RecentRowsSql"/> has the same but for its first two).
    /// </summary>
    internal const int HeadTick = 0, LastTick = 1, PrunedTick = 2, PrunedXid = 3, PrunedSeq = 4,
        TickId = 5, Tx = 6, Seq = 7, ProjectId = 8, SessionId = 9, EventType = 10, Payload = 11, CreatedAt = 12;

    /// <summary>The ORDER BY of a page in the form that sorts (<c>sorted</c>).</summary>
    internal const string SortedPageOrder = "ORDER BY t.tick_id, b.tx_id, b.seq";

    /// <summary>
    /// Parameters: <c>@tick</c> (first tick to read), <c>@x</c>/<c>@s</c> (read only rows after
    /// this in <c>@tick</c>; 0/0 for all), <c>@limit</c>, <c>@bytes</c> (with
    /// <paramref name="boundPayloads"/> only: the page's payload bound; a row whose page's payloads
    /// before it come to that, as stored, comes with a null payload), <c>@projects</c>, <c>@types</c>, <c>@prefixes</c>. Header columns on every row (one row of
    /// nulls when nothing matched): <c>head_tick</c>, <c>last_tick</c> (the last tick examined) and
    /// the retention bound. With <paramref name="sorted"/>, the page's rows are ordered by the
    /// statement itself.
    /// </summary>
    /// <remarks>
    /// No ORDER BY orders the page's rows. <c>r</c> reads the ticks in order (<c>t</c>: ORDER BY
    /// tick_id LIMIT) and each tick's rows in order (<see cref="PerTick"/>: ORDER BY tx_id, seq
    /// LIMIT); the join between them is LATERAL (the per-tick read takes the tick's bounds), which
    /// PostgreSQL can only run as a nested loop with <c>t</c> outside (the inside perhaps cached by
    /// a Memoize), so its rows come in position order, and <c>r</c>'s LIMIT keeps the first ones.
    /// An ORDER BY there could not use that (the planner does not carry a LATERAL inner side's
    /// order through the join): it copied every page's rows into an Incremental Sort and read them
    /// back, 35-45 % of a 1,000-row page's time in the database on a log of large ticks (lab,
    /// pgbench: 5.7-7.6 against 3.5-4.0 ms a page). The one header row is joined by a nested loop
    /// too (an outer ORDER BY sorted every page a second time: 8.5 against 6.1 ms of execution).
    /// The reader checks the order, and a page that ever came otherwise is read again with
    /// <paramref name="sorted"/>, whose ORDER BY decides what its LIMIT keeps
    /// (<see cref="ChangeLogReader"/>): sorting the page it got could not bring back a row that
    /// LIMIT had dropped.
    /// With <paramref name="boundPayloads"/> (the tail's reads), the statement bounds the page's
    /// payloads too: a running sum over the page's rows as they come (a window without an ORDER BY:
    /// no sort, the rows keep their order) of their payloads' stored size, so that rows past
    /// <c>@bytes</c> still come, for their positions (the reader checks the order over the whole
    /// page), but their payloads are neither fetched from TOAST nor sent: a tail read sized for
    /// small payloads that met a tick of 1,000 rows of 1 MB sent the whole gigabyte to keep 4 MB.
    /// Not for catch-ups: the window cost them 9 % of their rate (167,272 and 165,236 against
    /// 183,803 and 180,283 events/s, bench/results/2026-12-06-payload-bound-in-sql.md), and their
    /// pages are sized by the payloads of the page before, within the same stretch of the log.
    /// </remarks>
    public static string Forward(EventFilter filter, bool sorted = false, bool boundPayloads = false)
    {
        var perTick = PerTick(filter, descending: false);
        var order = sorted ? SortedPageOrder : "";
        var page = $"""
            SELECT t.tick_id, b.*
                      FROM (SELECT * FROM eventhub_tick WHERE tick_id >= @tick ORDER BY tick_id LIMIT @limit) t
                      CROSS JOIN LATERAL ({perTick}) b
                      {order}
                      LIMIT @limit
            """;
        var rows = boundPayloads
            ? $"""
                SELECT q.*, sum(pg_column_size(q.payload)) OVER (ROWS UNBOUNDED PRECEDING) - pg_column_size(q.payload) AS stored_before
                FROM ({page}) q
                """
            : page;
        return $"""
            SELECT h.head_tick, h.last_tick, h.pruned_tick, h.pruned_xid, h.pruned_seq, {(boundPayloads ? RowColumns.Replace(PayloadColumn, BoundedPayloadColumn) : RowColumns)}
            FROM (SELECT (SELECT max(tick_id) FROM eventhub_tick) AS head_tick,
                         (SELECT max(z.tick_id) FROM (SELECT tick_id FROM eventhub_tick WHERE tick_id >= @tick
                                                      ORDER BY tick_id LIMIT @limit) z) AS last_tick,
                         p.pruned_through_tick AS pruned_tick, p.pruned_through_xid::text AS pruned_xid,
                         p.pruned_through_seq AS pruned_seq
                  FROM eventhub_retention p) h
            LEFT JOIN LATERAL (
                {rows}
            ) r ON true
            """;
    }

    /// <summary>
    /// One tick's batch (the tick is <c>t</c>, from the enclosing LATERAL), at most <c>@limit</c>
    /// rows in position order. With several projects, one such read per project, merged.
    /// </summary>
    internal static string PerTick(EventFilter filter, bool descending)
    {
        var types = filter.HasTypeFilter
            ? " AND (c.event_type = ANY(@types) OR EXISTS (SELECT 1 FROM unnest(@prefixes::text[]) AS f(prefix) WHERE starts_with(c.event_type, f.prefix)))"
            : "";
        // Forward reads start inside tick @tick after (@x, @s); the other ticks are read whole. The
        // range part starts at one row bound, the cursor when it lies in the range, else the
        // range's start: btree then begins exactly there, even inside one transaction of 100,000
        // rows (bounding tx_id alone scanned from the transaction's first row to the cursor; a row
        // bound of the cursor beside a separate tx_id >= lo began at a cursor below lo).
        // The ended part (its xids probed one by one, tx_id = ANY(ended)) is read in two: the rest
        // of the cursor's own transaction when that is one of them, bounded by (xid, seq) so btree
        // begins at the cursor, and the ended xids after it, whole. A large transaction that spanned
        // ticks (in progress at one, so in the next one's ended xids) was bounded by its xid alone
        // and read from its first row on every page: 25, 804 and 1,429 buffers for pages at rows 0,
        // 50,000 and 90,000 of a 100,000-row one (LargeLogPlanTests); the tail's pages of a
        // 300,000-row load took ~8 s after its commit, every stream waiting (lab,
        // bench/results/2026-12-04-bulk-load.md). A row comparison beside tx_id = ANY(ended)
        // does not help: btree starts each xid at its equality and tests the row on every entry.
        // The cursor's transaction is bounded by the row and its xid from above, not by xid = @x
        // and seq > @s: on a log of a few big transactions (autovacuum's statistics, 4,400,000
        // rows, lab) the generic plan of that form read the primary key from seq @s on and
        // filtered by xid, which runs to the end of the log when the transaction has no row left.
        var order = descending ? "tx_id DESC, seq DESC" : "tx_id, seq";
        var inRange = "t.tick_id = @tick AND @x::xid8 >= t.lo";
        var pageOrder = $"ORDER BY c.{order.Replace(", ", ", c.")} LIMIT @limit";

        static string Of(string? p) => p is null ? "" : $"c.project_id = {p} AND ";

        string EndedParts(string? p) => descending
            ? $"""
                (SELECT c.* FROM change_log c
                 WHERE {Of(p)}c.tx_id = ANY(t.ended){types}
                 {pageOrder})
                """
            : $"""
                (SELECT c.* FROM change_log c
                 WHERE {Of(p)}(c.tx_id, c.seq) > (@x::xid8, @s) AND c.tx_id <= @x::xid8
                   AND t.tick_id = @tick AND @x::xid8 = ANY(t.ended){types}
                 {pageOrder})
                UNION ALL
                {LaterEnded(p)}
                """;

        // The ended xids after the cursor's. For all projects one probe of the list, which btree
        // returns in (tx_id, seq) order (the list is on the index's first column). For a project
        // the list is on the per-project index's second column, which PostgreSQL 15 cannot return
        // in order: the custom plan sorts the tick's rows of the project, and the generic plan
        // (pages are prepared) took change_log_position_idx filtered by project instead, reading
        // every project's rows of each ended transaction (20 times the page on a log whose
        // transactions write 20 projects; LargeLogPlanTests). One probe per xid (the list is
        // ascending, eventhub_make_tick_rows) puts both index columns in equalities, read in order.
        string LaterEnded(string? p) => p is null
            ? $"""
                (SELECT c.* FROM change_log c
                 WHERE c.tx_id = ANY(t.ended) AND c.tx_id > (CASE WHEN t.tick_id = @tick THEN @x::xid8 ELSE '0'::xid8 END){types}
                 {pageOrder})
                """
            : $"""
                (SELECT e.* FROM unnest(t.ended) AS d(xid)
                 CROSS JOIN LATERAL (
                     SELECT c.* FROM change_log c
                     WHERE c.project_id = {p} AND c.tx_id = d.xid{types}
                     ORDER BY c.seq LIMIT @limit) e
                 WHERE d.xid > (CASE WHEN t.tick_id = @tick THEN @x::xid8 ELSE '0'::xid8 END)
                 LIMIT @limit)
                """;

        // The range part [lo, hi) skips the xids the tick's snapshot saw in progress (a bulk load
        // begun since the last tick: its rows lie in the range, invisible to the tick, committed
        // later into another). Filtered by visibility, as it was, every reader that crossed the
        // tick walked each of the load's rows (10,437 buffers, 373 ms, past a 1,000,000-row load;
        // lab). It reads [start, r1) and the gaps (r1, r2), ..., (rk, hi) between those xids, each
        // a range scan that begins at the cursor or the gap's start, as the ticker's look does
        // (migration 0019). A pg_snapshot keeps its xip ascending, so the gaps come in order.
        var running = "ARRAY(SELECT x FROM pg_snapshot_xip(t.snap) AS x WHERE x >= t.lo)";
        var gapStart = $"{inRange} AND @x::xid8 > w.after";
        // Backward (the window's load, newest first) the same gaps, the newest first, each read from
        // its end (so their LIMIT keeps the newest rows), merged with the rest: the window, loaded
        // when a hub starts while a load runs, walked every row the load had written so far
        // (100,510 index entries for 500 rows; LargeLogPlanTests).
        string RangeParts(string? p) => descending
            ? $"""
                (SELECT c.* FROM change_log c
                 WHERE {Of(p)}c.tx_id >= t.lo AND c.tx_id < coalesce(({running})[1], t.hi)
                   AND pg_visible_in_snapshot(c.tx_id, t.snap){types}
                 {pageOrder})
                UNION ALL
                (SELECT g.* FROM (SELECT {running} AS r) k
                 CROSS JOIN LATERAL (SELECT * FROM unnest(k.r, k.r[2:] || t.hi) WITH ORDINALITY AS v(after, before, n)
                                     ORDER BY v.n DESC) w
                 CROSS JOIN LATERAL (
                     SELECT c.* FROM change_log c
                     WHERE {Of(p)}c.tx_id > w.after AND c.tx_id < w.before AND pg_visible_in_snapshot(c.tx_id, t.snap){types}
                     {pageOrder}) g
                 WHERE w.after IS NOT NULL
                 LIMIT @limit)
                """
            : $"""
                (SELECT c.* FROM change_log c
                 WHERE {Of(p)}(c.tx_id, c.seq) > (CASE WHEN {inRange} THEN @x::xid8 ELSE t.lo END, CASE WHEN {inRange} THEN @s ELSE -1 END)
                   AND c.tx_id < coalesce(({running})[1], t.hi)
                   AND pg_visible_in_snapshot(c.tx_id, t.snap){types}
                 {pageOrder})
                UNION ALL
                (SELECT g.* FROM (SELECT {running} AS r) k
                 CROSS JOIN LATERAL unnest(k.r, k.r[2:] || t.hi) AS w(after, before)
                 CROSS JOIN LATERAL (
                     SELECT c.* FROM change_log c
                     WHERE {Of(p)}(c.tx_id, c.seq) > (CASE WHEN {gapStart} THEN @x::xid8 ELSE w.after END,
                                                      CASE WHEN {gapStart} THEN @s ELSE 9223372036854775807 END)
                       AND c.tx_id < w.before AND pg_visible_in_snapshot(c.tx_id, t.snap){types}
                     {pageOrder}) g
                 WHERE w.after IS NOT NULL
                 LIMIT @limit)
                """;

        // Forward, the parts are concatenated in order (every ended xid is below lo, the cursor's
        // own transaction below the other ended xids, the gaps after [start, r1)): an Append runs
        // them one after the other and stops at the LIMIT, with nothing to merge or sort; the
        // reader checks the order as it does the page's. Backward, they are merged.
        string Parts(string? p) => descending
            ? $"""
                SELECT * FROM (
                    {EndedParts(p)}
                    UNION ALL
                    {RangeParts(p)}
                ) u ORDER BY u.{order.Replace(", ", ", u.")} LIMIT @limit
                """
            : $"""
                SELECT * FROM (
                    {EndedParts(p)}
                    UNION ALL
                    {RangeParts(p)}
                ) u LIMIT @limit
                """;

        return filter.Projects switch
        {
            null => Parts(null),
            { Length: 1 } => Parts("@project"),
            _ => $"""
                SELECT m.* FROM unnest(@projects::text[]) AS pr(project)
                CROSS JOIN LATERAL ({Parts("pr.project")}) m
                ORDER BY m.{order.Replace(", ", ", m.")} LIMIT @limit
                """,
        };
    }
}
