using System.Text;
using Dapper;
using EventHub.Log;
using Npgsql;

namespace EventHub.State;

/// <summary>
/// Reads the compacted log (<c>eventhub_state</c>, migration 0009): the latest event of every
/// entity of the selected projects and types, and the newest tick, in one statement.
/// </summary>
/// <remarks>
/// Why one statement is exact: the ticker folds each tick's batch into the state in the tick's own
/// transaction, so any snapshot sees the state of exactly the ticks it sees, no more, no less.
/// The offset returned is the end of the newest of them: streaming after it gives every later
/// change, and none the state already holds. Retention never touches the state.
/// </remarks>
public sealed class LiveStateReader(NpgsqlDataSource dataSource, IChangeLogReader log)
{
    public async Task<LiveStateRows> ReadAsync(EventFilter filter, CancellationToken cancellationToken)
    {
        var epoch = await log.GetEpochAsync(cancellationToken);
        var where = new StringBuilder("true");
        var parameters = new DynamicParameters();
        if (filter.Projects is not null)
        {
            where.Append(" AND s.project_id = ANY(@projects)");
            parameters.Add("projects", filter.Projects);
        }
        if (filter.HasTypeFilter)
        {
            where.Append(" AND (s.event_type = ANY(@types) OR EXISTS (SELECT 1 FROM unnest(@prefixes::text[]) AS f(prefix) WHERE starts_with(s.event_type, f.prefix)))");
            parameters.Add("types", filter.ExactTypes);
            parameters.Add("prefixes", filter.TypePrefixes);
        }
        var unkeyedWhere = filter.Projects is null ? "true" : "u.project_id = ANY(@projects)";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition($"""
            SELECT h.head, h.unkeyed, h.keys, s.kind, s.entity_key, s.tick_id, s.tx_id::text AS tx, s.seq, s.project_id,
                   s.session_id, s.event_type, s.payload::text AS payload, s.created_at
            FROM (SELECT (SELECT coalesce(max(tick_id), 0) FROM eventhub_tick) AS head,
                         (SELECT coalesce(array_agg(DISTINCT u.event_type ORDER BY u.event_type), ARRAY[]::text[])
                          FROM eventhub_state_unkeyed u WHERE {unkeyedWhere}) AS unkeyed,
                         (SELECT coalesce(jsonb_object_agg(k.event_type, jsonb_build_object('kind', k.kind, 'fields', k.key_fields)), jsonb_build_object())::text
                          FROM eventhub_entity_key k) AS keys) h
            LEFT JOIN eventhub_state s ON {where}
            ORDER BY s.project_id, s.kind, s.entity_key
            """, parameters, cancellationToken: cancellationToken))).AsList();
        var entities = new List<(string Kind, string Key, LogEvent Event)>(rows.Count);
        foreach (var r in rows)
        {
            if (r.tx is null) continue;
            entities.Add((r.kind!, Compact(r.entity_key!),
                LogRows.ToEvent(epoch, r.tick_id, r.tx, r.seq, r.project_id!, r.session_id, r.event_type!, r.payload!, r.created_at)));
        }
        var keys = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, EntityKeyRow>>(rows[0].keys)!
            .ToDictionary(x => x.Key, x => new EntityKey { Kind = x.Value.kind, Fields = [.. x.Value.fields] }, StringComparer.Ordinal);
        return new LiveStateRows(Offset.Format(epoch, LogPosition.EndOf(rows[0].head)), entities, rows[0].unkeyed, keys);
    }

    /// <summary>
    /// The key as compact JSON (<c>["a","b"]</c>; jsonb's text puts a space after each comma), so a
    /// client that builds keys from streamed events' payloads gets the same string (escaped like
    /// JavaScript's <c>JSON.stringify</c>: non-ASCII and HTML characters as they are).
    /// </summary>
    private static string Compact(string json) =>
        System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(json).RootElement, CompactKey);

    private static readonly System.Text.Json.JsonSerializerOptions CompactKey =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

#pragma warning disable IDE1006
    private sealed class Row
    {
        public long head { get; set; }
        public string[] unkeyed { get; set; } = [];
        public string keys { get; set; } = "{}";
        public string? kind { get; set; }
        public string? entity_key { get; set; }
        public long tick_id { get; set; }
        public string? tx { get; set; }
        public long seq { get; set; }
        public string? project_id { get; set; }
        public string? session_id { get; set; }
        public string? event_type { get; set; }
        public string? payload { get; set; }
        public DateTime created_at { get; set; }
    }

    private sealed record EntityKeyRow(string kind, string[] fields);
#pragma warning restore IDE1006
}

/// <summary>
/// The state as read: its offset, the entities with their latest events, the unkeyed types, and
/// the key of every keyed event type (built-in and configured), so a client keys the events it
/// streams after the offset exactly as the state does.
/// </summary>
public sealed record LiveStateRows(string Offset, IReadOnlyList<(string Kind, string Key, LogEvent Event)> Entities,
    IReadOnlyList<string> UnkeyedTypes, IReadOnlyDictionary<string, EntityKey> EntityKeys);
