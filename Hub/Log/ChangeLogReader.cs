using System.Globalization;
using Dapper;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// <see cref="IChangeLogReader"/> over PostgreSQL: batches of stored ticks (migration 0007) in
/// <c>(tick, tx_id, seq)</c> order. The SQL of the reads is in <see cref="TickBatchSql"/>.
/// </summary>
/// <remarks>
/// A read sees a tick's row only after the tick's transaction committed, and that snapshot sees
/// every transaction the tick's snapshot saw committed (on a standby too: their commit records
/// precede the tick's in the WAL). So the rows of every tick a read returns are all there.
/// </remarks>
public sealed class ChangeLogReader(NpgsqlDataSource dataSource) : IChangeLogReader
{
    private string? _epoch;

    public async ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default)
    {
        if (_epoch is not null) return _epoch;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return _epoch = await connection.QuerySingleAsync<string>(new CommandDefinition(
            "SELECT epoch FROM eventhub_epoch", cancellationToken: cancellationToken));
    }

    public async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, int limit,
        CancellationToken cancellationToken = default)
    {
        var epoch = await GetEpochAsync(cancellationToken);
        // A tick's end reads on from the next tick, whole.
        var (tick, x, s) = after.IsTickEnd ? (after.Tick + 1, 0UL, 0L) : (after.Tick, after.TransactionId, after.Seq);
        var parameters = new DynamicParameters();
        parameters.Add("tick", tick);
        parameters.Add("x", x.ToString(CultureInfo.InvariantCulture));
        parameters.Add("s", s);
        parameters.Add("limit", limit);
        AddFilter(parameters, filter);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await BufferedRows.QueryAsync<Row>(connection, new CommandDefinition(TickBatchSql.Forward(filter), parameters,
            cancellationToken: cancellationToken));

        var header = rows[0]; // the header comes on every row, and on one row of nulls when nothing matched
        var events = new List<LogEvent>(rows.Count);
        foreach (var r in rows)
            if (r.tx is not null) events.Add(ToEvent(epoch, r));
        var pruned = Pruned(header);
        if (events.Count >= limit)
            return new LogBatch(events, events[^1].Position, Complete: false, pruned);
        // Short: every row of the ticks examined is here. Complete when they run to the newest
        // tick, or when there is no tick after the cursor at all (not one examined).
        var through = header.last_tick is { } last ? LogPosition.Max(after, LogPosition.EndOf(last)) : after;
        var complete = header.last_tick is null || header.last_tick == header.head_tick;
        return new LogBatch(events, through, complete, pruned);
    }

    public async Task<long> GetHeadTickAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<long>(new CommandDefinition(
            "SELECT coalesce(max(tick_id), 0) FROM eventhub_tick", cancellationToken: cancellationToken));
    }

    public async Task<RecentRows> ReadLastAsync(long throughTick, int count, CancellationToken cancellationToken = default)
    {
        var epoch = await GetEpochAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await BufferedRows.QueryAsync<Row>(connection, new CommandDefinition(TickBatchSql.Backward(),
            new { tick = throughTick, limit = count }, cancellationToken: cancellationToken));
        var header = rows[0];
        var events = rows.Where(r => r.tx is not null).Select(r => ToEvent(epoch, r)).Reverse().ToList();
        var pruned = Pruned(header);
        // Every row after the oldest one returned, if the limit cut the read; else every row of
        // the ticks examined, if the tick limit cut it; else the whole log (what retention left).
        LogPosition coveredFrom = events.Count >= count ? events[0].Position
            : header.ticks >= count && header.first_tick is { } first ? LogPosition.EndOf(first - 1)
            : LogPosition.Start;
        return new RecentRows(events.Count >= count ? events.Skip(1).ToList() : events, LogPosition.Max(coveredFrom, pruned));
    }

    public async Task<OffsetLookup> LookUpAsync(ParsedOffset offset, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        switch (offset.Kind)
        {
            case OffsetKind.Beginning:
                return new OffsetLookup(OffsetLookupResult.Found, LogPosition.Start);
            case OffsetKind.Legacy:
            {
                // The previous core's position (xid, seq) is exact in the first tick when every row at
                // or before it is in that tick and none after it in the tick was delivered before it
                // (migration 0007 says why). That core handed out (x, s) only once every xid below x
                // had ended, so it holds when x is in the first tick's snapshot and every xid that
                // was in progress then and is below x has ended since without writing to the log
                // (one of another database, or a read-only one). Below the first tick's xmin that is
                // always so; the first tick itself may be gone to retention, then only that is used.
                var exact = await connection.QuerySingleAsync<bool?>(new CommandDefinition("""
                    SELECT CASE WHEN t.tick_id IS NULL THEN @x::xid8 < e.genesis_xmin
                                ELSE pg_visible_in_snapshot(@x::xid8, t.snap) AND NOT EXISTS (
                                    SELECT 1 FROM pg_snapshot_xip(t.snap) AS p(x)
                                    WHERE p.x < @x::xid8
                                      AND (pg_xact_status(p.x) IS NOT DISTINCT FROM 'in progress'
                                           OR EXISTS (SELECT 1 FROM change_log c WHERE c.tx_id = p.x))) END
                    FROM eventhub_epoch e LEFT JOIN eventhub_tick t ON t.tick_id = 1
                    """, new { x = offset.LegacyTransactionId.ToString(CultureInfo.InvariantCulture) }, cancellationToken: cancellationToken));
                return exact == true
                    ? new OffsetLookup(OffsetLookupResult.Found, new LogPosition(1, offset.LegacyTransactionId, offset.Seq))
                    : new OffsetLookup(OffsetLookupResult.FormatChanged, default);
            }
        }
        var found = await connection.QuerySingleAsync<(long head, long prunedTick, string prunedXid, long prunedSeq, string? tx)>(new CommandDefinition("""
            SELECT (SELECT coalesce(max(tick_id), 0) FROM eventhub_tick),
                   p.pruned_through_tick, p.pruned_through_xid::text, p.pruned_through_seq,
                   (SELECT c.tx_id::text FROM change_log c, eventhub_tick t
                    WHERE t.tick_id = @tick AND c.seq = @seq
                      AND (c.tx_id = ANY(t.ended) OR (c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap))))
            FROM eventhub_retention p
            """, new { tick = offset.Tick, seq = offset.Kind == OffsetKind.Event ? offset.Seq : 0 }, cancellationToken: cancellationToken));
        if (offset.Tick > found.head) return new OffsetLookup(OffsetLookupResult.BeyondHead, default);
        if (offset.Kind == OffsetKind.TickEnd) return new OffsetLookup(OffsetLookupResult.Found, LogPosition.EndOf(offset.Tick));
        if (found.tx is not null)
            return new OffsetLookup(OffsetLookupResult.Found, new LogPosition(offset.Tick, ulong.Parse(found.tx, CultureInfo.InvariantCulture), offset.Seq));
        // The last pruned event itself is exact: retention recorded its position.
        if (offset.Tick == found.prunedTick && offset.Seq == found.prunedSeq)
            return new OffsetLookup(OffsetLookupResult.Found, new LogPosition(offset.Tick, ulong.Parse(found.prunedXid, CultureInfo.InvariantCulture), offset.Seq));
        return offset.Tick <= found.prunedTick
            ? new OffsetLookup(OffsetLookupResult.Pruned, default)
            : new OffsetLookup(OffsetLookupResult.NoSuchEvent, default);
    }

    public async Task<long> TickNowAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<long>(new CommandDefinition(
            "SELECT tick_id FROM eventhub_make_tick()", cancellationToken: cancellationToken));
    }

    private static void AddFilter(DynamicParameters parameters, EventFilter filter)
    {
        if (filter.Projects is { Length: 1 } one) parameters.Add("project", one[0]);
        else if (filter.Projects is not null) parameters.Add("projects", filter.Projects);
        if (filter.HasTypeFilter)
        {
            parameters.Add("types", filter.ExactTypes);
            parameters.Add("prefixes", filter.TypePrefixes);
        }
    }

    private static LogPosition Pruned(Row header) => header.pruned_tick == 0 && header.pruned_xid is null or "0"
        ? LogPosition.Start
        : new LogPosition(header.pruned_tick, ulong.Parse(header.pruned_xid!, CultureInfo.InvariantCulture), header.pruned_seq);

    private static LogEvent ToEvent(string epoch, Row r) =>
        LogRows.ToEvent(epoch, r.tick_id!.Value, r.tx!, r.seq, r.project_id!, r.session_id, r.event_type!, r.payload!, r.created_at);

    /// <summary>The tail's read (unfiltered), for tests of its plan.</summary>
    internal static string TailReadSql => TickBatchSql.Forward(EventFilter.All);

    // Column names as PostgreSQL returns them; Dapper maps by name.
#pragma warning disable IDE1006
    private sealed class Row
    {
        public long? head_tick { get; set; }
        public long? last_tick { get; set; }
        public long? first_tick { get; set; }
        public long ticks { get; set; }
        public long pruned_tick { get; set; }
        public string? pruned_xid { get; set; }
        public long pruned_seq { get; set; }
        public long? tick_id { get; set; }
        public string? tx { get; set; }
        public long seq { get; set; }
        public string? project_id { get; set; }
        public string? session_id { get; set; }
        public string? event_type { get; set; }
        public string? payload { get; set; }
        public DateTime created_at { get; set; }
    }
#pragma warning restore IDE1006
}
