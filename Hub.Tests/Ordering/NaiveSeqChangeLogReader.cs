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
        return await c.ExecuteScalarAsync<string>("SELECT epoch FROM eventhub_epoch") ?? "";
    }

    public async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, int limit, CancellationToken cancellationToken = default)
    {
        var epoch = await GetEpochAsync(cancellationToken);
        await using var c = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await c.QueryAsync<(long seq, string project, string? session, string type, string payload, DateTime at)>(
            "SELECT seq, project_id, session_id, event_type, payload::text, created_at FROM change_log WHERE seq > @seq ORDER BY seq LIMIT @limit",
            new { seq = after.Seq, limit });
        var events = rows
            .Select(r => new LogEvent(new LogPosition(1, r.seq), Offset.Format(epoch, new LogPosition(1, r.seq)), r.seq,
                r.project, r.session, r.type, r.payload, new DateTimeOffset(DateTime.SpecifyKind(r.at, DateTimeKind.Utc))))
            .Where(filter.Matches)
            .ToList();
        return new LogBatch(events, ulong.MaxValue, false);
    }

    public async Task<LogPosition> GetHeadAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await dataSource.OpenConnectionAsync(cancellationToken);
        return new LogPosition(1, await c.ExecuteScalarAsync<long?>("SELECT max(seq) FROM change_log") ?? 0);
    }

    public Task<IReadOnlyList<LogEvent>> ReadLastAsync(LogPosition head, int count, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<LogEvent>>([]);

    public Task<LogSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new LogSnapshot(0, 0, new HashSet<ulong>()));

    public Task<LogHorizon> GetHorizonAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new LogHorizon(ulong.MaxValue, long.MaxValue));
}
