using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.State;

/// <summary>
/// Migration 0014: the live-state folds write each entity as a plain insert or update. With
/// synchronous commits the writers wait on the WAL the ticker's transaction adds, and
/// <c>INSERT ... ON CONFLICT</c> added records of its own for a race the tick lock rules out: a
/// confirmation per new entity (speculative insertion) and a lock record before each update
/// (docs/design.md, "Live state"). Read back with <c>pg_walinspect</c>.
/// An update whose new version does not fit on the old one's page writes a lock record of its own
/// before it looks for room (heap_update), indistinguishable from ON CONFLICT's; whether the page has
/// room depends on pruning, which another test's open transaction on the shared cluster holds back
/// (CI failed once on 14 such records). So the test holds an xid open itself, and every version it
/// writes fits on one page: 10 entities, and the set-based fold starts from a truncated table
/// rather than from dead versions.
/// </summary>
public sealed class FoldWalTests
{
    private const int Entities = 10;

    [Fact]
    public async Task Both_folds_write_new_entities_and_updates_without_confirmation_or_lock_records()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        await c.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_walinspect");

        // The worst case, always: a transaction holding an xid keeps every dead version on its page.
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("SELECT pg_current_xact_id()", transaction: held);

        // The small-tick fold (eventhub_fold_state): 10 new entities, then an update of each.
        var inserts = await FoldedRecordsAsync(c, () => WriteEventsAsync(c, "v1"), "SELECT made FROM eventhub_make_tick()");
        AssertPlain(inserts, expectInserts: Entities, expectUpdates: 0);
        var updates = await FoldedRecordsAsync(c, () => WriteEventsAsync(c, "v2"), "SELECT made FROM eventhub_make_tick()");
        AssertPlain(updates, expectInserts: 0, expectUpdates: Entities);

        // The large-tick fold (eventhub_apply_state, set-based) over the last tick again: first into
        // an empty state, then over rows that hold older events of the same entities.
        var tick = await c.QuerySingleAsync<long>("SELECT max(tick_id) FROM eventhub_tick");
        await c.ExecuteAsync("TRUNCATE eventhub_state");
        var setInserts = await FoldedRecordsAsync(c, () => Task.CompletedTask, $"SELECT true FROM eventhub_apply_state({tick})");
        AssertPlain(setInserts, expectInserts: Entities, expectUpdates: 0);
        await c.ExecuteAsync("""
            CREATE TEMP TABLE held AS SELECT * FROM eventhub_state;
            TRUNCATE eventhub_state;
            INSERT INTO eventhub_state (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
            SELECT project_id, kind, entity_key, tick_id, tx_id, seq - 1000000, event_type, session_id, payload, created_at FROM held
            """);
        var setUpdates = await FoldedRecordsAsync(c, () => Task.CompletedTask, $"SELECT true FROM eventhub_apply_state({tick})");
        AssertPlain(setUpdates, expectInserts: 0, expectUpdates: Entities);

        // The state holds each entity's newest event.
        Assert.Equal(Entities, await c.QuerySingleAsync<long>(
            "SELECT count(*) FROM eventhub_state s JOIN change_log l ON l.seq = s.seq WHERE s.payload ->> 'state' = 'v2'"));
    }

    private static async Task WriteEventsAsync(NpgsqlConnection c, string state)
    {
        for (var i = 1; i <= Entities; i++)
            await c.ExecuteAsync(
                "INSERT INTO change_log (project_id, session_id, event_type, payload) VALUES ('p', 's', 'pr_updated', jsonb_build_object('url', @url::text, 'state', @state::text))",
                new { url = $"https://git.example/p/pull/{i}", state });
    }

    /// <summary>Heap records of <c>eventhub_state</c> written by <paramref name="foldSql"/>, by type.</summary>
    private static async Task<Dictionary<string, long>> FoldedRecordsAsync(NpgsqlConnection c, Func<Task> write, string foldSql)
    {
        await write();
        var start = await c.QuerySingleAsync<string>("SELECT pg_current_wal_lsn()::text");
        Assert.True(await c.QuerySingleAsync<bool>(foldSql));
        var end = await c.QuerySingleAsync<string>("SELECT pg_current_wal_lsn()::text");
        var rows = await c.QueryAsync<(string type, long count)>("""
            SELECT record_type, count(*) FROM pg_get_wal_records_info(@start::pg_lsn, @end::pg_lsn)
            WHERE resource_manager = 'Heap' AND block_ref LIKE '%/' || pg_relation_filenode('eventhub_state') || ' %'
            GROUP BY record_type
            """, new { start, end });
        return rows.ToDictionary(r => r.type, r => r.count);
    }

    private static void AssertPlain(Dictionary<string, long> records, int expectInserts, int expectUpdates)
    {
        var seen = string.Join(", ", records.Select(r => $"{r.Key} {r.Value}"));
        Assert.False(records.ContainsKey("HEAP_CONFIRM"), $"speculative insertions: {seen}");
        Assert.False(records.ContainsKey("LOCK"), $"row locks before updates: {seen}");
        Assert.Equal(expectInserts, records.Where(r => r.Key.StartsWith("INSERT", StringComparison.Ordinal)).Sum(r => r.Value));
        Assert.Equal(expectUpdates, records.Where(r => r.Key.Contains("UPDATE", StringComparison.Ordinal)).Sum(r => r.Value));
    }
}
