using System.Globalization;
using System.Text;
using Dapper;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// <see cref="IChangeLogReader"/> over PostgreSQL: rows whose transaction id is below
/// <c>pg_snapshot_xmin(pg_current_snapshot())</c>, in <c>(tx_id, seq)</c> order.
/// </summary>
/// <remarks>
/// <c>pg_current_snapshot()</c> inside a statement returns that statement's own snapshot, so the
/// horizon and the rows come from one consistent view: every transaction below the horizon
/// has ended, and its rows are visible in this very snapshot if it committed.
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
        var sql = BuildReadSql(filter, withHeldBack: filter.Projects is null && !filter.HasTypeFilter);
        var parameters = new DynamicParameters();
        parameters.Add("xid", after.TransactionId.ToString(CultureInfo.InvariantCulture));
        parameters.Add("seq", after.Seq);
        parameters.Add("limit", limit);
        if (filter.Projects is not null) parameters.Add("projects", filter.Projects);
        if (filter.HasTypeFilter)
        {
            parameters.Add("types", filter.ExactTypes);
            parameters.Add("prefixes", filter.TypePrefixes);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql, parameters,
            cancellationToken: cancellationToken))).AsList();

        // The horizon comes on every row, and on a single row of nulls when nothing matched.
        var finalBefore = ulong.Parse(rows[0].horizon, CultureInfo.InvariantCulture);
        var heldBack = rows[0].held_back;
        var pruned = new LogPosition(ulong.Parse(rows[0].pruned_xid, CultureInfo.InvariantCulture), rows[0].pruned_seq);
        var events = new List<LogEvent>(rows.Count);
        foreach (var r in rows)
            if (r.tx is not null) events.Add(ToEvent(epoch, r));
        return new LogBatch(events, finalBefore, heldBack, pruned);
    }

    public async Task<LogPosition> GetHeadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var head = await connection.QueryFirstOrDefaultAsync<(string tx, long seq)?>(new CommandDefinition("""
            SELECT tx_id::text, seq FROM change_log
            WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY tx_id DESC, seq DESC LIMIT 1
            """, cancellationToken: cancellationToken));
        return head is { } h ? new LogPosition(ulong.Parse(h.tx, CultureInfo.InvariantCulture), h.seq) : LogPosition.Start;
    }

    public async Task<IReadOnlyList<LogEvent>> ReadLastAsync(LogPosition head, int count, CancellationToken cancellationToken = default)
    {
        var epoch = await GetEpochAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition("""
            SELECT '' AS horizon, false AS held_back, tx_id::text AS tx, seq, project_id, session_id, event_type,
                   payload::text AS payload, created_at
            FROM change_log
            WHERE (tx_id, seq) <= (@xid::xid8, @seq)
            ORDER BY tx_id DESC, seq DESC
            LIMIT @count
            """, new { xid = head.TransactionId.ToString(CultureInfo.InvariantCulture), seq = head.Seq, count },
            cancellationToken: cancellationToken))).AsList();
        rows.Reverse();
        return rows.Select(r => ToEvent(epoch, r)).ToList();
    }

    private static LogEvent ToEvent(string epoch, Row r)
    {
        var position = new LogPosition(ulong.Parse(r.tx!, CultureInfo.InvariantCulture), r.seq);
        return new LogEvent(position, Offset.Format(epoch, position), r.seq, r.project_id!, r.session_id,
            r.event_type!, r.payload!, new DateTimeOffset(DateTime.SpecifyKind(r.created_at, DateTimeKind.Utc)));
    }

    public async Task<LogSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return LogSnapshot.Parse(await connection.QuerySingleAsync<string>(new CommandDefinition(
            "SELECT pg_current_snapshot()::text", cancellationToken: cancellationToken)));
    }

    public async Task<LogHorizon> GetHorizonAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (next, last) = await connection.QuerySingleAsync<(string, long)>(new CommandDefinition("""
            SELECT pg_snapshot_xmax(pg_current_snapshot())::text,
                   (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM change_log_seq_seq)
            """, cancellationToken: cancellationToken));
        return new LogHorizon(ulong.Parse(next, CultureInfo.InvariantCulture), last);
    }

    /// <summary>The tail's read (unfiltered, with the held-back check), for tests of its plan.</summary>
    internal static string TailReadSql => BuildReadSql(EventFilter.All, withHeldBack: true);

    private static string BuildReadSql(EventFilter filter, bool withHeldBack)
    {
        var where = new StringBuilder("(c.tx_id, c.seq) > (@xid::xid8, @seq) AND c.tx_id < h.xmin");
        if (filter.Projects is not null) where.Append(" AND c.project_id = ANY(@projects)");
        if (filter.HasTypeFilter)
            where.Append(" AND (c.event_type = ANY(@types) OR EXISTS (SELECT 1 FROM unnest(@prefixes::text[]) AS p(prefix) WHERE starts_with(c.event_type, p.prefix)))");
        var heldBack = withHeldBack
            ? "EXISTS (SELECT 1 FROM change_log w WHERE w.tx_id >= x.xmin)"
            : "false";
        return $"""
            SELECT h.xmin::text AS horizon, h.held_back, h.pruned_xid, h.pruned_seq,
                   c.tx_id::text AS tx, c.seq, c.project_id, c.session_id, c.event_type,
                   c.payload::text AS payload, c.created_at
            FROM (SELECT x.xmin, {heldBack} AS held_back,
                         r.pruned_through_xid::text AS pruned_xid, r.pruned_through_seq AS pruned_seq
                  FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) x, eventhub_retention r) h
            LEFT JOIN LATERAL (
                SELECT * FROM change_log c
                WHERE {where}
                ORDER BY c.tx_id, c.seq
                LIMIT @limit
            ) c ON true
            ORDER BY c.tx_id, c.seq
            """;
    }

    // Column names as PostgreSQL returns them; Dapper maps by name.
#pragma warning disable IDE1006
    private sealed class Row
    {
        public string horizon { get; set; } = "";
        public bool held_back { get; set; }
        public string pruned_xid { get; set; } = "0";
        public long pruned_seq { get; set; }
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
