using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.State;

/// <summary>
/// The live state's WAL. Migration 0016: the folds in the ticks' transactions write none (the state
/// is unlogged; with synchronous commits the writers waited on its ~520 bytes per event). Migration
/// 0014: the durable base, which retention folds the ticks it prunes into, writes each entity as a
/// plain insert or update: <c>INSERT ... ON CONFLICT</c> added records of its own for a race the
/// locks rule out, a confirmation per new entity (speculative insertion) and a lock record before
/// each update (docs/live-state.md). Read back with <c>pg_walinspect</c>.
/// An update whose new version does not fit on the old one's page writes a lock record of its own
/// before it looks for room (heap_update), indistinguishable from ON CONFLICT's; whether the page has
/// room depends on pruning, which another test's open transaction on the shared cluster holds back
/// (CI failed once on 14 such records). So the test holds an xid open itself, and every version it
/// writes fits on one page: 10 entities.
/// </summary>
public sealed class FoldWalTests
{
    private const int Entities = 10;

    [Fact]
    public async Task The_folds_write_no_WAL_for_the_state_and_the_base_writes_plain_inserts_and_updates()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        await c.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_walinspect");

        // The worst case, always: a transaction holding an xid keeps every dead version on its page.
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("SELECT pg_current_xact_id()", transaction: held);

        // The fold after each tick (eventhub_fold_pending, as LiveStateUpkeep runs it; no tick folds
        // itself since migration 0022): 10 new entities, then an update of each.
        const string FoldAfter = "SELECT eventhub_fold_pending(1000) > 0";
        var WriteAndTickAsync = WriteAndTick(c);
        var inserts = await RecordsAsync(c, () => WriteAndTickAsync("v1"), FoldAfter, "eventhub_state");
        Assert.Empty(inserts);
        var tick1 = await c.QuerySingleAsync<long>("SELECT max(tick_id) FROM eventhub_tick");
        var updates = await RecordsAsync(c, () => WriteAndTickAsync("v2"), FoldAfter, "eventhub_state");
        Assert.Empty(updates);
        var tick2 = await c.QuerySingleAsync<long>("SELECT max(tick_id) FROM eventhub_tick");
        // The same fold (eventhub_fold_ticks) tick by tick, from an empty state.
        await c.ExecuteAsync("TRUNCATE eventhub_state");
        Assert.Empty(await RecordsAsync(c, () => Task.CompletedTask, $"SELECT true FROM eventhub_fold_ticks({tick1 - 1}, {tick1})", "eventhub_state"));
        Assert.Empty(await RecordsAsync(c, () => Task.CompletedTask, $"SELECT true FROM eventhub_fold_ticks({tick1}, {tick2})", "eventhub_state"));

        // The base, as retention advances it: through the first tick (new entities), then the second.
        var baseInserts = await RecordsAsync(c, () => Task.CompletedTask, $"SELECT true FROM eventhub_advance_state_base({tick1})", "eventhub_state_base");
        AssertPlain(Heap(baseInserts), expectInserts: Entities, expectUpdates: 0);
        var baseUpdates = await RecordsAsync(c, () => Task.CompletedTask, $"SELECT true FROM eventhub_advance_state_base({tick2})", "eventhub_state_base");
        AssertPlain(Heap(baseUpdates), expectInserts: 0, expectUpdates: Entities);

        // Both hold each entity's newest event.
        foreach (var table in new[] { "eventhub_state", "eventhub_state_base" })
            Assert.Equal(Entities, await c.QuerySingleAsync<long>(
                $"SELECT count(*) FROM {table} s JOIN change_log l ON l.seq = s.seq WHERE s.payload::jsonb ->> 'state' = 'v2'"));
    }

    private static async Task WriteEventsAsync(NpgsqlConnection c, string state)
    {
        for (var i = 1; i <= Entities; i++)
            await c.ExecuteAsync(
                "INSERT INTO change_log (project_id, session_id, event_type, payload) VALUES ('p', 's', 'pr_updated', jsonb_build_object('url', @url::text, 'state', @state::text))",
                new { url = $"https://git.example/p/pull/{i}", state });
    }

    /// <summary>
    /// WAL records that <paramref name="foldSql"/> wrote for <paramref name="table"/> or any of its
    /// indexes, as (resource manager, record type) and count.
    /// </summary>
    private static Func<string, Task> WriteAndTick(NpgsqlConnection c) => async status =>
    {
        await WriteEventsAsync(c, status);
        Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
    };

    private static async Task<Dictionary<(string Manager, string Type), long>> RecordsAsync(NpgsqlConnection c, Func<Task> write, string foldSql, string table)
    {
        await write();
        var start = await c.QuerySingleAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
        Assert.True(await c.QuerySingleAsync<bool>(foldSql));
        var end = await c.QuerySingleAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
        if (end == start) return []; // nothing written at all (pg_walinspect refuses an empty range)
        // pg_walinspect reads only flushed WAL; WAL without a commit (pruning, an empty fold's) is
        // flushed by the WAL writer shortly after (wal_writer_delay).
        await TaskTimeouts.UntilAsync(async () => await c.QuerySingleAsync<bool>("SELECT pg_current_wal_flush_lsn() >= @end::pg_lsn", new { end }),
            because: "the WAL was never flushed");
        var rows = await c.QueryAsync<(string manager, string type, long count)>("""
            SELECT resource_manager, record_type, count(*) FROM pg_get_wal_records_info(@start::pg_lsn, @end::pg_lsn)
            WHERE EXISTS (SELECT 1 FROM (SELECT @table::regclass AS rel UNION ALL SELECT indexrelid FROM pg_index WHERE indrelid = @table::regclass) r
                          WHERE block_ref LIKE '%/' || pg_relation_filenode(r.rel) || ' %')
            GROUP BY resource_manager, record_type
            """, new { start, end, table });
        return rows.ToDictionary(r => (r.manager, r.type), r => r.count);
    }

    private static Dictionary<string, long> Heap(Dictionary<(string Manager, string Type), long> records) =>
        records.Where(r => r.Key.Manager == "Heap").ToDictionary(r => r.Key.Type, r => r.Value);

    private static void AssertPlain(Dictionary<string, long> records, int expectInserts, int expectUpdates)
    {
        var seen = string.Join(", ", records.Select(r => $"{r.Key} {r.Value}"));
        Assert.False(records.ContainsKey("HEAP_CONFIRM"), $"speculative insertions: {seen}");
        Assert.False(records.ContainsKey("LOCK"), $"row locks before updates: {seen}");
        Assert.Equal(expectInserts, records.Where(r => r.Key.StartsWith("INSERT", StringComparison.Ordinal)).Sum(r => r.Value));
        Assert.Equal(expectUpdates, records.Where(r => r.Key.Contains("UPDATE", StringComparison.Ordinal)).Sum(r => r.Value));
    }
}
