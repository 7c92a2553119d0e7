using Dapper;
using EventHub.Log;
using EventHub.Storage;
using Npgsql;
using System.Data.Common;

namespace EventHub.State;

/// <summary>
/// Reads the compacted log (<c>eventhub_state</c>, migration 0009): the latest event of every
/// entity of the selected projects and types, and the tick it is folded through, in one statement.
/// </summary>
/// <remarks>
/// Why one statement is exact: every fold of ticks into the state (after the ticks, by
/// <c>LiveStateUpkeep</c>: migrations 0020, 0022) moves the state's <c>through_tick</c> in the same
/// transaction, so any snapshot sees the state of exactly the ticks through that one, no more, no
/// less. The same snapshot sees the newest tick; the ticks in between, when they hold at most
/// <see cref="PendingRows"/> rows, are read by the statement too (each entity's latest row, as the
/// fold will write it) and merged by <c>seq</c>, as the fold merges, so the read holds every tick
/// made before it. The offset returned is the end of the tick it holds through: streaming after
/// it gives every later change, and none the state already holds. Retention never touches the state (it folds what it
/// prunes into the durable base the state is rebuilt from). The state table is unlogged: crash
/// recovery empties it, and its head row says so (<c>ready</c>); the read then has it rebuilt
/// from the base and the log in one statement under the state lock and reads again (migration 0016).
/// At most <c>maxConcurrentReads</c> reads run at once (<c>Limits:MaxConcurrentStateReads</c>); the
/// rest wait their turn, taken in rotation by the callers that wait (a principal, else an address),
/// so a caller that queues many reads does not hold back another's; one whose request is cancelled
/// leaves the queue at once. A state read
/// holds a pooled connection and streams megabytes: unbounded, a burst of them (a fleet of
/// dashboards reloading after a reset) took the pool that stream opens and catch-ups need.
/// </remarks>
public sealed class LiveStateReader(NpgsqlDataSource dataSource, IChangeLogReader log, int maxConcurrentReads = int.MaxValue,
    Storage.PrimaryPools? pools = null) : IDisposable
{
    private readonly ReadSlots _slots = new(maxConcurrentReads);
    private readonly RepeatedStrings _strings = new();

    /// <summary>Reads waiting for their turn now.</summary>
    public int Queued => _slots.Queued;

    public void Dispose() => _slots.Dispose();

    /// <summary>
    /// The state, materialized and ordered by (project, kind, key) ordinally (the hub method's
    /// answer). <see cref="StreamAsync"/> is the same read without holding it.
    /// </summary>
    public async Task<LiveStateRows> ReadAsync(EventFilter filter, CancellationToken cancellationToken, string? caller = null)
    {
        LiveStateHead? head = null;
        var entities = new List<(string Kind, string Key, LogEvent Event)>();
        await foreach (var item in StreamAsync(filter, cancellationToken, caller))
        {
            if (item.Head is { } h) head = h;
            else entities.Add((item.Kind!, item.Key!, item.Event!));
        }
        // Sorting here costs ~1 ms for 10,000 entities, where the database's sort (collation-aware,
        // wide rows) cost tens of ms and spilled to disk at ~10,000 entities.
        entities.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Event.ProjectId, b.Event.ProjectId);
            if (c == 0) c = string.CompareOrdinal(a.Kind, b.Kind);
            return c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
        });
        return new LiveStateRows(head!.Offset, entities, head.UnkeyedTypes, head.EntityKeys);
    }

    /// <summary>
    /// The state as the statement returns it: first its head (offset, unkeyed types, keys), then
    /// one item per entity, in no particular order, each as soon as its row arrives, so a caller
    /// that writes them out works while the database still reads (the HTTP endpoint does).
    /// <paramref name="caller"/> (a principal's or an address's key) takes turns for a read slot
    /// with the other callers waiting (<see cref="ReadSlots"/>).
    /// </summary>
    public async IAsyncEnumerable<LiveStateItem> StreamAsync(EventFilter filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken, string? caller = null)
    {
        await _slots.EnterAsync(caller, cancellationToken);
        try
        {
            await foreach (var item in ReadRowsAsync(filter, cancellationToken))
                yield return item;
        }
        finally
        {
            _slots.Exit();
        }
    }

    private async IAsyncEnumerable<LiveStateItem> ReadRowsAsync(EventFilter filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var epoch = await log.GetEpochAsync(cancellationToken);
        var (sql, parameters) = Sql(filter);
        // A session the server closed while it sat in the pool is found by the read's first round
        // trip, which then runs again on a new session (PooledSessions), before any item is out.
        var (connection, started) = await PooledSessions.OpenAsync<(NpgsqlTransaction, DbDataReader)?>(dataSource,
            async (c, token) => await BeginAsync(c, filter, sql, parameters, token), cancellationToken,
            pools?.SessionsLostOf(dataSource) ?? CancellationToken.None);
        await using var _ = connection;
        for (var attempt = 1; ; attempt++)
        {
            var (transaction, reader) = started ?? await BeginAsync(connection, filter, sql, parameters, cancellationToken);
            started = null;
            await using var __ = transaction;
            bool headSeen = false, notReady = false;
            // The ticks after the state's mark, latest row per entity (see Sql): they come before
            // the state's rows, and each replaces the state's row of its entity if its seq is higher.
            // They come whatever their type, and the type filter applies to the row that wins: a
            // pending row filtered out first left its entity's folded row of a selected type in the
            // answer, which the fold then took out at the same offset.
            Dictionary<(string Project, string Kind, string Key), Row>? pending = null;
            await using (reader)
            while (await reader.ReadAsync(cancellationToken))
            {
                var r = ReadRow(reader);
                if (r.Tx is null)
                {
                    if (r.Ready != true) { notReady = true; break; }
                    var keys = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, EntityKeyRow>>(r.Keys)!
                        .ToDictionary(x => x.Key, x => new EntityKey { Kind = x.Value.kind, Fields = [.. x.Value.fields] }, StringComparer.Ordinal);
                    headSeen = true;
                    yield return new LiveStateItem(new LiveStateHead(Offset.Format(epoch, LogPosition.EndOf(r.Head)), r.Unkeyed, keys), null, null, null);
                    continue;
                }
                if (!headSeen) throw new InvalidOperationException("The state read returned an entity before its head row.");
                var key = (r.ProjectId!, r.Kind!, r.EntityKey!);
                if (r.Pending == true)
                {
                    (pending ??= [])[key] = r;
                    continue;
                }
                var row = r;
                if (pending is not null && pending.Remove(key, out var newer) && newer.Seq > r.Seq) row = newer;
                if (filter.MatchesType(row.EventType!)) yield return Item(epoch, row);
            }
            if (pending is not null && !notReady)
                foreach (var row in pending.Values)
                    if (filter.MatchesType(row.EventType!)) yield return Item(epoch, row);
            if (!notReady)
            {
                await transaction.CommitAsync(cancellationToken);
                yield break;
            }
            // Crash recovery or a standby's promotion emptied the unlogged state (migration 0016) and
            // no tick has rebuilt it yet: rebuild it from the base and the log, then read again.
            await transaction.RollbackAsync(cancellationToken);
            if (attempt > 1) throw new InvalidOperationException("The live state was not ready after it was rebuilt.");
            await LiveStateUpkeep.EnsureWholeAsync(connection, cancellationToken);
        }
    }

    /// <summary>The read's transaction, its plan setting and its statement, up to its first answer.</summary>
    private static async Task<(NpgsqlTransaction Transaction, DbDataReader Reader)> BeginAsync(NpgsqlConnection connection,
        EventFilter filter, string sql, DynamicParameters parameters, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
        try
        {
            // The transaction's first statement is a round trip of its own with a short bound (the
            // plan's settings; HubDataSources says why): on a lost session the read then
            // runs again on a new one (PooledSessions) within seconds, not after the command timeout.
            await connection.ExecuteAsync(new CommandDefinition(PlanSetting(filter), transaction: transaction,
                commandTimeout: Storage.HubDataSources.TransactionFirstStatementTimeoutSeconds, cancellationToken: cancellationToken));
            // Not SequentialAccess (Dapper's default for its async queries): each row is then read
            // whole by ReadAsync, and ReadRow's synchronous getters run on memory. With sequential
            // access a row that straddled Npgsql's read buffer blocked a thread-pool thread on a
            // socket read (two thirds of a state read's time, in a profile).
            var reader = await connection.ExecuteReaderAsync(new CommandDefinition(sql, parameters, transaction,
                cancellationToken: cancellationToken), System.Data.CommandBehavior.SingleResult);
            return (transaction, reader);
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A row of <see cref="Sql"/>, by ordinal with typed getters: the payload as the UTF-8 bytes
    /// Npgsql read (not decoded into a string to be encoded again), no number boxed. With Dapper's
    /// row parser (and a buffer and writer per event's JSON, <see cref="EventJsonScratch"/>) a state
    /// read allocated 4,030 instead of 1,550 bytes per entity (<c>StateReadAllocationTests</c>; 32 MB
    /// a read of the bench's 10,000 entities), garbage the hub's collections paused every stream for.
    /// </summary>
    private static Row ReadRow(DbDataReader reader)
    {
        if (reader.IsDBNull(TxColumn))
            return new Row
            {
                Head = reader.GetInt64(0), Ready = reader.IsDBNull(1) ? null : reader.GetBoolean(1),
                Unkeyed = reader.GetFieldValue<string[]>(2), Keys = reader.GetString(3),
            };
        return new Row
        {
            Pending = reader.GetBoolean(4), Kind = reader.GetString(5), EntityKey = reader.GetString(6),
            TickId = reader.GetInt64(7), Tx = reader.GetString(TxColumn), Seq = reader.GetInt64(9),
            ProjectId = reader.GetString(10), SessionId = reader.IsDBNull(11) ? null : reader.GetString(11),
            EventType = reader.GetString(12), Payload = reader.GetFieldValue<byte[]>(13), CreatedAt = reader.GetDateTime(14),
        };
    }

    /// <summary>The ordinal of <see cref="Sql"/>'s <c>tx</c>: null on the head row only.</summary>
    private const int TxColumn = 8;

    private LiveStateItem Item(string epoch, Row r) => new(null, r.Kind, Compact(r.EntityKey!),
        LogRows.ToEvent(epoch, r.TickId, r.Tx!, r.Seq, r.ProjectId!, r.SessionId, r.EventType!, r.Payload!, r.CreatedAt, _strings));

    /// <summary>
    /// At most this many rows of the ticks the state is not folded through yet are read by the state
    /// read itself (see <see cref="Sql"/>); with more (a large tick being folded) it answers as of
    /// the ticks folded. The upkeep folds every second, so this is a second of up to 10,000 events.
    /// </summary>
    public const int PendingRows = 10_000;

    /// <summary>
    /// The settings the state read runs with (in its own transaction, before <see cref="Sql"/>).
    /// </summary>
    /// <remarks>
    /// A project's entities are one range of <c>eventhub_state_project</c>, whatever the statistics
    /// say. The planner does not know which projects it reads (their ids come as an array), so it
    /// guesses an equal share of the table for each; once autovacuum had analysed a state of 50,000
    /// entities, that guess made a Seq Scan of all of them the cheaper plan on paper (120-200 ms,
    /// where the project's range takes ~45 ms, on the bench's state of 10,000 entities).
    /// And <c>jit = off</c>, whatever the session has: with sequential scans priced out, the scans
    /// of the read's one-row tables cost 10^10 each on paper, far past <c>jit_above_cost</c>, and in a
    /// session with the server's JIT (a pooler that drops the hub's startup options, a connection
    /// string that sets its own) the read was compiled every time: 425 ms against 7.7 ms (lab, a
    /// 500,000-event log as autovacuum left it).
    /// </remarks>
    public static string PlanSetting(EventFilter filter) =>
        filter.Projects is null ? "SET LOCAL jit = off" : "SET LOCAL enable_seqscan = off; SET LOCAL jit = off";

    /// <summary>
    /// The state read: one statement, so the entities and the tick they are folded through come from one snapshot.
    /// One row per entity, and one row (its <c>tx</c> null) with the head tick, the unkeyed types
    /// and the key table, so those are sent once, not with every entity (they were joined to every
    /// row, and the joined rows sorted: 7.6 MB spilled to disk for 10,000 entities). With a project filter, each selected project's entities are one range of
    /// <c>eventhub_state_project</c> (a parameterised index scan per project): the read costs that
    /// project's entities, not every project's state (LargeStatePlanTests). No ORDER BY: the
    /// caller orders the entities.
    /// </summary>
    public static (string Sql, DynamicParameters Parameters) Sql(EventFilter filter)
    {
        var parameters = new DynamicParameters();
        var source = "eventhub_state s";
        if (filter.Projects is not null)
        {
            source = """
                (SELECT DISTINCT p.id FROM unnest(@projects::text[]) AS p(id)) p
                CROSS JOIN LATERAL (SELECT * FROM eventhub_state x WHERE x.project_id = p.id) s
                """;
            parameters.Add("projects", filter.Projects);
        }
        if (filter.HasTypeFilter)
        {
            parameters.Add("types", filter.ExactTypes);
            parameters.Add("prefixes", filter.TypePrefixes);
        }
        // The filter on rows aliased so: the state's (s; its projects are the source's) and the
        // unkeyed types' (u). The pending ticks' rows (x) are filtered by project only: a pending
        // row must supersede its entity's folded row before the type filter applies (ReadRowsAsync
        // applies it to the row that wins), or the fold would change the answer at the same offset.
        string TypeWhere(string alias) => filter.HasTypeFilter
            ? $"({alias}.event_type = ANY(@types) OR EXISTS (SELECT 1 FROM unnest(@prefixes::text[]) AS f(prefix) WHERE starts_with({alias}.event_type, f.prefix)))"
            : "true";
        string ProjectWhere(string alias) => filter.Projects is not null ? $"{alias}.project_id = ANY(@projects)" : "true";
        string Where(string alias) => alias == "s" ? TypeWhere(alias) : $"{TypeWhere(alias)} AND {ProjectWhere(alias)}";
        // The unkeyed types the request selects: its projects and its types, as for the entities.
        var unkeyedWhere = Where("u");
        // The head row first (Append runs its branches in order): the caller can write the offset
        // before the entities stream by. Then the ticks after the state's marks (the state is folded
        // after the ticks, by LiveStateUpkeep: migration 0022), if there are at most PendingRows of
        // their rows, each entity's latest (eventhub_state_of_ticks: what the fold will write), and
        // the unkeyed types among them; the head is then the newest tick, otherwise the entities' mark.
        return ($"""
            WITH m AS MATERIALIZED (
                SELECT (SELECT r.through_tick FROM eventhub_state_ready r) AS f,
                       (SELECT u.through_tick FROM eventhub_state_unkeyed_mark u) AS u,
                       (SELECT coalesce(max(t.tick_id), 0) FROM eventhub_tick t) AS n),
            w AS MATERIALIZED (
                SELECT m.f, m.u, m.n, m.f IS NOT NULL AND eventhub_pending_rows_at_most(least(m.f, m.u), m.n, {PendingRows}) AS small
                FROM m)
            SELECT CASE WHEN w.small THEN w.n ELSE coalesce(w.f, 0) END AS head,
                   w.f IS NOT NULL AS ready,
                   (SELECT coalesce(array_agg(DISTINCT v.event_type ORDER BY v.event_type), ARRAY[]::text[]) FROM (
                        SELECT u.event_type FROM eventhub_state_unkeyed u WHERE {unkeyedWhere}
                        UNION ALL
                        SELECT u.event_type FROM eventhub_pending_unkeyed(w.u, w.n) u WHERE w.small AND {unkeyedWhere}) v) AS unkeyed,
                   (SELECT coalesce(jsonb_object_agg(k.event_type, jsonb_build_object('kind', k.kind, 'fields', k.key_fields)), jsonb_build_object())::text
                    FROM eventhub_entity_key k) AS keys,
                   NULL::boolean AS pending,
                   NULL::text AS kind, NULL::text AS entity_key, NULL::bigint AS tick_id, NULL::text AS tx, NULL::bigint AS seq,
                   NULL::text AS project_id, NULL::text AS session_id, NULL::text AS event_type, NULL::text AS payload, NULL::timestamptz AS created_at
            FROM w
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, true, x.kind, x.entity_key, x.tick_id, x.tx_id::text, x.seq, x.project_id, x.session_id, x.event_type,
                   x.payload::text, x.created_at
            FROM w CROSS JOIN LATERAL eventhub_pending_state(w.f, w.n) x
            WHERE w.small AND {ProjectWhere("x")}
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, false, s.kind, s.entity_key, s.tick_id, s.tx_id::text, s.seq, s.project_id, s.session_id, s.event_type,
                   s.payload::text, s.created_at
            FROM {source}
            WHERE {Where("s")}
            """, parameters);
    }

    /// <summary>
    /// The key as compact JSON (<c>["a","b"]</c>; jsonb's text puts a space after each comma), so a
    /// client that builds keys from streamed events' payloads gets the same string (escaped like
    /// JavaScript's <c>JSON.stringify</c>: non-ASCII and HTML characters as they are).
    /// </summary>
    private static string Compact(string json)
    {
        // Printable ASCII without escapes (nearly every key): dropping the spaces outside strings is
        // the same text as the round trip below, without a document per entity.
        var plain = true;
        foreach (var ch in json)
            if (ch is < ' ' or > '~' or '\\') { plain = false; break; }
        if (!plain)
            return System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(json).RootElement, CompactKey);
        var spaces = 0;
        var inString = false;
        foreach (var ch in json)
        {
            if (ch == '"') inString = !inString;
            else if (!inString && ch == ' ') spaces++;
        }
        if (spaces == 0) return json;
        return string.Create(json.Length - spaces, json, static (compact, json) =>
        {
            var (written, inString) = (0, false);
            foreach (var ch in json)
            {
                if (ch == '"') inString = !inString;
                else if (!inString && ch == ' ') continue;
                compact[written++] = ch;
            }
        });
    }

    private static readonly System.Text.Json.JsonSerializerOptions CompactKey =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A row of <see cref="Sql"/>: the head row (<c>tx</c> null) or an entity's.</summary>
    private sealed class Row
    {
        public long Head { get; init; }
        public bool? Ready { get; init; }
        public bool? Pending { get; init; }
        public string[] Unkeyed { get; init; } = [];
        public string Keys { get; init; } = "{}";
        public string? Kind { get; init; }
        public string? EntityKey { get; init; }
        public long TickId { get; init; }
        public string? Tx { get; init; }
        public long Seq { get; init; }
        public string? ProjectId { get; init; }
        public string? SessionId { get; init; }
        public string? EventType { get; init; }
        public byte[]? Payload { get; init; }
        public DateTime CreatedAt { get; init; }
    }

#pragma warning disable IDE1006 // the key table's JSON names
    private sealed record EntityKeyRow(string kind, string[] fields);
#pragma warning restore IDE1006
}

/// <summary>The state's head: the offset it is exact at, the unkeyed types, the key of every keyed type.</summary>
public sealed record LiveStateHead(string Offset, IReadOnlyList<string> UnkeyedTypes, IReadOnlyDictionary<string, EntityKey> EntityKeys);

/// <summary>One item of <see cref="LiveStateReader.StreamAsync"/>: the head, or an entity (kind, compact key, latest event).</summary>
public sealed record LiveStateItem(LiveStateHead? Head, string? Kind, string? Key, LogEvent? Event);

/// <summary>
/// The state as read: its offset, the entities with their latest events, the unkeyed types, and
/// the key of every keyed event type (built-in and configured), so a client keys the events it
/// streams after the offset exactly as the state does.
/// </summary>
public sealed record LiveStateRows(string Offset, IReadOnlyList<(string Kind, string Key, LogEvent Event)> Entities,
    IReadOnlyList<string> UnkeyedTypes, IReadOnlyDictionary<string, EntityKey> EntityKeys);
