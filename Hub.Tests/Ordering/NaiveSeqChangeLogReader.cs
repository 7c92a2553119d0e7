using Dapper;
using EventHub.Log;
using Npgsql;

namespace EventHub.Tests.Ordering;

/// <summary>
/// The naive reader, for showing that the ordering tests catch it: a cursor on <c>seq</c> alone,
/// reading every visible row after it. Never used by the hub itself.
/// </summary>
internal sealed class NaiveSeqChangeLogReader(NpgsqlDataSource dataSource) : IChangeLogReader
{
    public async ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await dataSource.OpenConnectionAsync(cancellationToken);
        return await EpochSql.ReadAsync(c, cancellationToken);
    }

    public async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default)
    {
        var epoch = await GetEpochAsync(cancellationToken);
        await using var c = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await c.QueryAsync<(long seq, string project, string? session, string type, string payload, DateTime at)>(
            "SELECT seq, project_id, session_id, event_type, payload::text, created_at FROM change_log WHERE seq > @seq ORDER BY seq LIMIT @limit",
            new { seq = after.Tick == 1 ? after.Seq : 0, limit = limit.Rows });
        // Every row at (tick 1, xid 0, seq): position order is seq order.
        var events = rows
            .Select(r => new LogEvent(new LogPosition(1, 0, r.seq), Offset.Format(epoch, new LogPosition(1, 0, r.seq)), r.seq,
                r.project, r.session, r.type, r.payload, new DateTimeOffset(DateTime.SpecifyKind(r.at, DateTimeKind.Utc))))
            .Where(filter.Matches)
            .ToList();
        return new LogBatch(events, events.Count > 0 ? events[^1].Position : after, Complete: events.Count < limit.Rows);
    }

    /// <summary>Tick 0: the tail starts before every row (the ordering tests start on an empty log).</summary>
    public Task<long> GetHeadTickAsync(CancellationToken cancellationToken = default) => Task.FromResult(0L);

    public Task<RecentRows> ReadLastAsync(long throughTick, int count, long maxPayloadBytes, CancellationToken cancellationToken = default) =>
        Task.FromResult(new RecentRows([], LogPosition.Start));

    public Task<OffsetLookup> LookUpAsync(ParsedOffset offset, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<long> TickNowAsync(CancellationToken cancellationToken = default) => Task.FromResult(0L);
}
