using System.Text.Json;
using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>
/// The live state computed directly from the database, to compare a client's with: the whole log
/// (what retention pruned too, kept by <see cref="KeepPrunedRowsAsync"/>): per (project, kind, key)
/// the event with the highest seq (an entity's version: for one entity seq order is commit order,
/// position order inside a tick is not; migration 0010), by the contract's keys written out here
/// independently of the hub and the client.
/// </summary>
public static class LogState
{
    /// <summary>An entity's latest event, as compared: its seq, its type and its payload (compact JSON).</summary>
    public readonly record struct Latest(long Seq, string Type, string Payload);

    /// <summary>
    /// Copies every row retention deletes from change_log, with the tick it belonged to, into
    /// <c>test_pruned_log</c>, so the expected state still sees the whole log after pruning.
    /// </summary>
    public static Task KeepPrunedRowsAsync(TestDatabase db) => db.Writer.ExecuteAsync("""
        CREATE TABLE test_pruned_log (seq bigint PRIMARY KEY, tick bigint NOT NULL, tx_id xid8 NOT NULL,
                                      project_id text NOT NULL, event_type text NOT NULL, payload jsonb NOT NULL);
        CREATE FUNCTION test_keep_pruned() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO test_pruned_log VALUES (OLD.seq, eventhub_tick_of(OLD.tx_id), OLD.tx_id, OLD.project_id, OLD.event_type, OLD.payload);
            RETURN OLD;
        END $$;
        CREATE TRIGGER test_keep_pruned BEFORE DELETE ON change_log FOR EACH ROW EXECUTE FUNCTION test_keep_pruned();
        """);

    /// <summary>How many rows retention pruned (0 unless <see cref="KeepPrunedRowsAsync"/> was installed and retention ran).</summary>
    public static async Task<long> PrunedCountAsync(TestDatabase db)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("SELECT count(*) FROM test_pruned_log");
    }

    /// <summary>
    /// The latest event of every entity of <paramref name="project"/>, from the log. Every committed
    /// row must be in a tick (ask the hub for its head first), or its place in the order is unknown.
    /// </summary>
    public static async Task<Dictionary<string, Latest>> ExpectedAsync(TestDatabase db, string project, bool withPruned = false)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        var pruned = withPruned ? "UNION ALL SELECT tick, tx_id, seq, project_id, event_type, payload FROM test_pruned_log" : "";
        var rows = (await c.QueryAsync<(long? Tick, long Seq, string Type, string Payload)>($"""
            SELECT tick, seq, event_type, payload::text FROM (
                SELECT eventhub_tick_of(tx_id) AS tick, tx_id, seq, project_id, event_type, payload FROM change_log
                {pruned}) log
            WHERE project_id = @project
            ORDER BY tick, tx_id, seq
            """, new { project })).AsList();
        var notInTick = rows.Count(r => r.Tick is null);
        if (notInTick > 0) throw new InvalidOperationException($"{notInTick} rows are in no tick yet: ask the hub for its head first.");
        var state = new Dictionary<string, Latest>();
        foreach (var (_, seq, type, payload) in rows)
        {
            var json = JsonDocument.Parse(payload).RootElement;
            if (KeyOf(type, json) is { } key && (!state.TryGetValue(key, out var held) || held.Seq < seq))
                state[key] = new Latest(seq, type, Compact(json));
        }
        return state;
    }

    /// <summary>The live state's entities of <paramref name="project"/>, in the same shape.</summary>
    public static Dictionary<string, Latest> Of(LiveStateSnapshot snapshot, string project) =>
        snapshot.Entities.Where(e => e.Key.ProjectId == project).ToDictionary(
            e => $"{e.Key.Kind} {Compact(JsonDocument.Parse(e.Key.Key).RootElement)}",
            e => new Latest(e.Value.Seq, e.Value.Type, Compact(e.Value.Payload)));

    /// <summary>Whether two states are the same.</summary>
    public static bool Same(IReadOnlyDictionary<string, Latest> expected, IReadOnlyDictionary<string, Latest> actual) =>
        expected.Count == actual.Count && expected.All(e => actual.TryGetValue(e.Key, out var a) && a == e.Value);

    /// <summary>What differs, for a failure message.</summary>
    public static string Diff(IReadOnlyDictionary<string, Latest> expected, IReadOnlyDictionary<string, Latest> actual)
    {
        var lines = expected.Where(e => !actual.TryGetValue(e.Key, out var a) || a != e.Value)
            .Select(e => $"{e.Key}: expected {e.Value}, got {(actual.TryGetValue(e.Key, out var a) ? a.ToString() : "none")}")
            .Concat(actual.Where(a => !expected.ContainsKey(a.Key)).Select(a => $"{a.Key}: not expected, got {a.Value}"))
            .ToList();
        return $"{expected.Count} entities expected, {actual.Count} held; {lines.Count} differ:\n" + string.Join("\n", lines.Take(20));
    }

    /// <summary>The entity an event describes, by the contract's keys; null for a type without one.</summary>
    private static string? KeyOf(string type, JsonElement payload)
    {
        string Key(string kind, params string[] fields) =>
            $"{kind} [{string.Join(",", fields.Select(f => Compact(payload.GetProperty(f))))}]";
        return type switch
        {
            "session_created" or "session_updated" => Key("session", "id"),
            "pr_created" or "pr_updated" or "pr_session_changed" => Key("pr", "url"),
            "pr_check_recorded" => Key("check", "pr", "name", "commit"),
            "pr_review_thread_added" or "pr_review_thread_resolved" => Key("thread", "pr", "thread"),
            _ => null,
        };
    }

    private static string Compact(JsonElement json) => JsonSerializer.Serialize(json);
}
