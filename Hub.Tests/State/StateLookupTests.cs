using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.State;

/// <summary>
/// The fold finds each entity of its ticks by one probe of the key's hash index (migration 0017), on a
/// large state with the statistics an ANALYZE leaves: <c>eventhub_fold_ticks</c>, after the ticks
/// (migration 0020; since migration 0022 for every tick, small or large: no tick folds itself). It
/// reads no range of the state (a join that scanned the project index would read every entity of
/// the project to fold a tick). Counted with the statistics views, as the ticker's own reads are in
/// LargeLogPlanTests; fails without migration 0017 (no such index). The same holds for folds that
/// begin on an empty state (migration 0018).
/// </summary>
public sealed class StateLookupTests(ITestOutputHelper output)
{
    private const int StateEntities = 100_000;
    private const int SmallTicks = 20;
    private const int PerSmallTick = 50; // new entities, and as many updates of known ones
    private const int LargeTickNew = 10_000; // a tick of 20,000 rows: set-based

    [Fact]
    public async Task Every_entity_a_tick_folds_is_one_probe_of_the_keys_hash_index_and_no_range_of_the_state_is_read()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        await SessionsAsync(c, "a", 1, StateEntities, "v1");
        Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
        await FoldPendingAsync(c); // a large tick: folded after it
        await c.ExecuteAsync("ANALYZE eventhub_state"); // as autovacuum leaves it after the load
        Assert.Equal(StateEntities, await c.QuerySingleAsync<long>("SELECT count(*) FROM eventhub_state"));

        var before = await CountersAsync(db, c);
        for (var t = 0; t < SmallTicks; t++)
        {
            await SessionsAsync(c, "b", t * PerSmallTick + 1, PerSmallTick, "v1"); // new
            await SessionsAsync(c, "a", t * PerSmallTick + 1, PerSmallTick, "v2"); // known
            Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
            await FoldPendingAsync(c);
        }
        await SessionsAsync(c, "c", 1, LargeTickNew, "v1");
        await SessionsAsync(c, "a", 50_001, LargeTickNew, "v2");
        Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
        await FoldPendingAsync(c);
        var after = await CountersAsync(db, c);

        var folded = SmallTicks * 2 * PerSmallTick + 2 * LargeTickNew;
        var updated = SmallTicks * PerSmallTick + LargeTickNew;
        AssertOneProbePerEntity("on a large state", before, after, folded, updated);

        // The state is exact: every entity once, the known ones at their newest event.
        Assert.Equal(StateEntities + SmallTicks * PerSmallTick + LargeTickNew, await c.QuerySingleAsync<long>("SELECT count(*) FROM eventhub_state"));
        Assert.Equal(0, await c.QuerySingleAsync<long>(
            "SELECT count(*) FROM (SELECT 1 FROM eventhub_state GROUP BY project_id, kind, entity_key HAVING count(*) > 1) d"));
        Assert.Equal(updated, await c.QuerySingleAsync<long>("SELECT count(*) FROM eventhub_state WHERE payload::jsonb ->> 'status' = 'v2'"));
    }

    [Fact]
    public async Task Folds_that_start_on_an_empty_state_still_probe_once_per_entity_as_the_state_grows()
    {
        // A new deployment: the migrations leave the state empty and analyzed. Before migration 0018
        // the ticker session's in-tick fold kept a generic plan made for a one-row table, which read
        // the whole state (through the project index) once per tick and compared every row of the
        // tick with every entity. The folds now run after the ticks, one session folding tick after
        // tick as the upkeep does: this fails on ProjectScans and on the rows fetched if they do so.
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await c.QuerySingleAsync<long>("SELECT count(*) FROM eventhub_state"));

        const int ticks = 30, perTick = 100, updatesPerTick = 20;
        var before = await CountersAsync(db, c);
        for (var t = 0; t < ticks; t++)
        {
            await SessionsAsync(c, "n", t * perTick + 1, perTick, "v1"); // new
            if (t > 0) await SessionsAsync(c, "n", (t - 1) * perTick + 1, updatesPerTick, "v2"); // known, from the tick before
            Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
            await FoldPendingAsync(c);
        }
        var after = await CountersAsync(db, c);

        var updated = (ticks - 1) * updatesPerTick;
        var folded = ticks * perTick + updated;
        AssertOneProbePerEntity("from an empty state", before, after, folded, updated);
        Assert.Equal(ticks * perTick, await c.QuerySingleAsync<long>("SELECT count(*) FROM eventhub_state"));
        Assert.Equal(updated, await c.QuerySingleAsync<long>("SELECT count(*) FROM eventhub_state WHERE payload::jsonb ->> 'status' = 'v2'"));
    }

    /// <summary>
    /// Between the two counters: one probe of the key's index per folded entity, no scan of the
    /// project index, no sequential scan, and at most two state rows fetched per known entity (a
    /// probe of a new one fetches nothing; of a known one, its row and a dead version or two).
    /// </summary>
    private void AssertOneProbePerEntity(string state, Counters before, Counters after, int folded, int updated)
    {
        output.WriteLine($"{folded:N0} entities folded ({updated:N0} known) {state}: {after.KeyProbes - before.KeyProbes:N0} probes of the key's index, "
                         + $"{after.ProjectScans - before.ProjectScans} scans of the project index, {after.SeqScans - before.SeqScans} sequential scans, "
                         + $"{after.Fetched - before.Fetched:N0} state rows fetched");
        Assert.Equal(0, after.ProjectScans - before.ProjectScans);
        Assert.Equal(0, after.SeqScans - before.SeqScans);
        Assert.Equal(folded, after.KeyProbes - before.KeyProbes);
        Assert.True(after.Fetched - before.Fetched <= 2 * updated, $"{after.Fetched - before.Fetched} state rows fetched to fold {folded} entities");
    }

    /// <summary>What LiveStateUpkeep does after ticks: folds the ticks the state is behind.</summary>
    private static async Task FoldPendingAsync(NpgsqlConnection c) =>
        Assert.Equal(await c.QuerySingleAsync<long>("SELECT max(tick_id) FROM eventhub_tick"),
            await c.QuerySingleAsync<long>("SELECT eventhub_fold_pending(1000)"));

    /// <summary>session_created events for ids <paramref name="prefix"/>from .. from+count-1, in one statement.</summary>
    private static Task SessionsAsync(NpgsqlConnection c, string prefix, int from, int count, string status) =>
        c.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'p', 'session_created', jsonb_build_object('id', @prefix || i, 'status', @status::text) FROM generate_series(@from, @from + @count - 1) AS i
            """, new { prefix, from, count, status });

    private sealed record Counters(long KeyProbes, long ProjectScans, long SeqScans, long Fetched);

    private static async Task<Counters> CountersAsync(TestDatabase db, NpgsqlConnection ticking)
    {
        await ticking.ExecuteAsync("SELECT pg_stat_force_next_flush()");
        await using var s = await db.DataSource.OpenConnectionAsync();
        return await s.QuerySingleAsync<Counters>("""
            SELECT (SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'eventhub_state_entity') AS KeyProbes,
                   (SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'eventhub_state_project') AS ProjectScans,
                   seq_scan AS SeqScans, coalesce(idx_tup_fetch, 0) AS Fetched
            FROM pg_stat_user_tables WHERE relname = 'eventhub_state'
            """);
    }
}
