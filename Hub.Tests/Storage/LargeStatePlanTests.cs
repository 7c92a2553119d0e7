using System.Globalization;
using System.Text.Json;
using Dapper;
using EventHub.Log;
using EventHub.Retention;
using EventHub.State;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Storage;

/// <summary>
/// The live-state read and retention's queries on a large log (issue 15, point 3): 500,000 events
/// in transactions of 5,000, each made a tick and folded into the state as the ticker does,
/// project <c>bench</c> holding 10,000 entities (sessions, PRs, checks, threads, each updated many
/// times) and 20 other projects 40,000 more; no manual ANALYZE (statistics as autovacuum leaves
/// them, if it got to the tables at all). Plans are taken in a session as the hub opens them
/// (<c>HubDataSources</c>: jit off, bitmap scans off), of the SQL the hub's code runs.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class LargeStatePlanTests(ITestOutputHelper output)
{
    private const int Batches = 100;
    private const int BenchPerBatch = 3000;
    private const int OtherPerBatch = 2000;
    private const int BenchEntities = 10_000;

    [Fact]
    public async Task On_half_a_million_events_the_state_read_is_an_index_scan_of_the_projects_entities_whatever_the_log_size()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hubSessions = HubSessions(db);
        var reader = new LiveStateReader(hubSessions, new ChangeLogReader(hubSessions));
        var measured = new Dictionary<long, long>();
        await BuildAsync(db, Batches + Batches / 2, holdFrom: Batches, async (c, rows, held) =>
        {
            // The state of one project: the SQL the reader ran, as it ran it.
            var state = await reader.ReadAsync(new EventFilter(["bench"], null), CancellationToken.None);
            Assert.Equal(BenchEntities, state.Entities.Count);
            var plan = await ExplainStateAsync(hubSessions, new EventFilter(["bench"], null));
            var (buffers, _) = Report($"state of project bench at {rows:N0} rows{(held ? ", a transaction open since 500,000" : "")}", plan);
            if (!held) measured[rows] = buffers;
            var nodes = Flatten(plan).ToList();
            Assert.DoesNotContain(nodes, n => Relation(n) == "change_log"); // the state never reads the log (the pending ticks: functions)
            Assert.DoesNotContain(nodes, n => Relation(n) == "eventhub_state" && Type(n) is "Seq Scan" or "Bitmap Heap Scan");
            // The entities were joined to the head's row and sorted: 7.6 MB spilled to disk.
            foreach (var sort in nodes.Where(n => Type(n) == "Sort"))
                Assert.True(Input(sort) <= 1000, $"a Sort of {Input(sort)} rows (every entity): {plan}");
            Assert.Equal(0, plan.GetProperty("Temp Written Blocks").GetInt64());
            // The project's entities and no other project's: one range of the index.
            var scan = nodes.Single(n => Relation(n) == "eventhub_state");
            Assert.Equal(BenchEntities, scan.GetProperty("Actual Rows").GetDouble() * scan.GetProperty("Actual Loops").GetDouble());
            // A visit per entity (a heap page, the index) while vacuum can do its work. A transaction
            // held open keeps every later version of every entity: then the read follows them all
            // (reported, not bounded: MVCC's cost of updating the state in place).
            if (!held) Assert.True(buffers <= 2 * BenchEntities, $"the read of one project's {BenchEntities} entities touched {buffers} buffers");

            // Every project (no filter): the whole state, still no read of the log, no spill.
            await reader.ReadAsync(EventFilter.All, CancellationToken.None);
            var all = await ExplainStateAsync(hubSessions, EventFilter.All);
            var (allBuffers, _) = Report($"state of every project at {rows:N0} rows", all);
            Assert.DoesNotContain(Flatten(all), n => Relation(n) == "change_log");
            Assert.Equal(0, all.GetProperty("Temp Written Blocks").GetInt64());

            // A tick the state is not folded through yet (migration 0022): the read reads its rows
            // itself, by index, whatever the log's size: a few buffers per row, not a scan of the log.
            await c.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT 'pending', 'session_created', jsonb_build_object('id', 'pending-' || @rows || '-' || i) FROM generate_series(1, 100) i
                """, new { rows });
            Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
            Assert.Equal(100, (await reader.ReadAsync(new EventFilter(["pending"], null), CancellationToken.None)).Entities.Count(e => e.Key.Contains($"pending-{rows}-", StringComparison.Ordinal)));
            var (pendingBuffers, _) = Report($"state of every project at {rows:N0} rows, a tick of 100 events not folded",
                await ExplainStateAsync(hubSessions, EventFilter.All));
            Assert.True(pendingBuffers <= allBuffers + 1_000, $"a tick of 100 events not folded: {pendingBuffers} buffers against {allBuffers}");
            await c.ExecuteAsync("SELECT eventhub_fold_pending(2147483647)");

            // Statistics as autovacuum's analyze leaves them (the bench saw it run mid-way): the
            // planner, not knowing which project the array names, takes each for 1/21 of the
            // entities, and chose a Seq Scan of all of them unless the read says otherwise.
            await c.ExecuteAsync("ANALYZE eventhub_state");
            var analyzed = await ExplainStateAsync(hubSessions, new EventFilter(["bench"], null));
            Report($"state of project bench at {rows:N0} rows, eventhub_state analyzed", analyzed);
            Assert.DoesNotContain(Flatten(analyzed), n => Relation(n) == "eventhub_state" && Type(n) is "Seq Scan" or "Bitmap Heap Scan");
        });
        // Twice the events (the same entities, updated twice as often): about the same cost.
        Assert.Equal(2, measured.Count);
        var (half, full) = (measured.Keys.Min(), measured.Keys.Max());
        Assert.True(measured[full] <= 1.5 * measured[half] + 200, $"{measured[half]} buffers at {half:N0} rows, {measured[full]} at {full:N0}");
    }

    /// <remarks>
    /// Found here: on a log not analyzed yet (a young or freshly grown one: this test's, at 250,000
    /// events) the cut read tx_id = ANY(t.ended) by a Seq Scan of change_log per tick (366,491
    /// buffers, 2 s per prune pass); each ended xid is now one index probe. kept_from walks
    /// MaxEvents entries of change_log_pkey (seq alone) on every pass.
    /// </remarks>
    [Fact]
    public async Task On_half_a_million_events_retentions_cut_and_delete_read_change_log_by_index_whatever_the_log_size()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hubSessions = HubSessions(db);
        var measured = new Dictionary<long, long>();
        await BuildAsync(db, Batches, holdFrom: 10, async (c, rows, _) =>
        {
            // The cut (MaxEvents 100,000, batches of 10,000) and its delete (rolled back).
            var args = new { maxAge = (TimeSpan?)null, maxEvents = (long?)100_000, batch = 10_000 };
            var cutPlan = await ExplainAsync(hubSessions, RetentionCutSql.Text, args);
            var (cutBuffers, _) = Report($"retention cut at {rows:N0} rows", cutPlan);
            measured[rows] = cutBuffers;
            Assert.DoesNotContain(Flatten(cutPlan), n => Relation(n) == "change_log" && Type(n) is "Seq Scan" or "Bitmap Heap Scan");
            await using var hub = await hubSessions.OpenConnectionAsync();
            var cut = await hub.QuerySingleAsync<(long tick, string tx, long seq)>(RetentionCutSql.Text, args);
            await using var tx = await hub.BeginTransactionAsync();
            var delete = await ExplainAsync(hub, PrunedRowsDeleteSql.Text, new { tick = cut.tick, xid = cut.tx, cut.seq });
            Report($"retention delete through tick {cut.tick} at {rows:N0} rows", delete);
            Assert.DoesNotContain(Flatten(delete), n => Relation(n) == "change_log" && Type(n) is "Seq Scan" or "Bitmap Heap Scan");
            await tx.RollbackAsync();

            // The tick function's generic plans (migration 0010) on this log, with statistics as
            // autovacuum left them and the hub's session settings: looks and a tick of the newest
            // rows read those rows, not the log.
            await using var ticker = await hubSessions.OpenConnectionAsync();
            var before = await ChangeLogRowsReadAsync(c);
            await c.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('other', 'session_created', '{\"id\":\"tick-probe\"}')");
            for (var i = 0; i < 5; i++) await ticker.ExecuteAsync("SELECT eventhub_make_tick()");
            await ticker.ExecuteAsync("SELECT pg_stat_force_next_flush()"); // the ticker's counts, not only ours
            await ticker.ExecuteAsync("SELECT 1");
            var read = await ChangeLogRowsReadAsync(c) - before;
            output.WriteLine($"5 looks and ticks at {rows:N0} rows read {read} change_log rows");
            Assert.True(read <= 500, $"5 looks and ticks of the newest rows read {read} rows of a {rows:N0}-row log");
        });
        var (half, full) = (measured.Keys.Min(), measured.Keys.Max());
        Assert.True(measured[full] <= 1.5 * measured[half] + 200, $"the cut: {measured[half]} buffers at {half:N0} rows, {measured[full]} at {full:N0}");
    }

    private static async Task<long> ChangeLogRowsReadAsync(NpgsqlConnection c)
    {
        await c.ExecuteAsync("SELECT pg_stat_force_next_flush()");
        return await c.ExecuteScalarAsync<long>(
            "SELECT seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables WHERE relname = 'change_log'");
    }

    private static NpgsqlDataSource HubSessions(TestDatabase db) => EventHub.Storage.HubDataSources.Create(
        new NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = Application }.ConnectionString, "plan-test");

    private const string Application = "state-plan-test";

    /// <summary>
    /// Grows the log in transactions of 5,000 events, each made a tick (and folded into the state)
    /// at once, while a writer updates bench's sessions one event per transaction; from
    /// <paramref name="holdFrom"/> transactions on, one transaction holds an xid open (vacuum
    /// removes no version newer). <paramref name="measure"/> runs at every 250,000 events.
    /// </summary>
    private async Task BuildAsync(TestDatabase db, int batches, int holdFrom, Func<NpgsqlConnection, long, bool, Task> measure)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        await c.ExecuteAsync(GenerateBatch);
        await using var holder = await db.DataSource.OpenConnectionAsync();
        NpgsqlTransaction? open = null;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            await using var w = await db.DataSource.OpenConnectionAsync();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await w.ExecuteAsync("""
                    INSERT INTO change_log (project_id, session_id, event_type, payload)
                    VALUES ('bench', @id, 'session_updated', jsonb_build_object('id', @id::text, 'activity', 'active', 'isTerminated', false,
                            'previewUrl', null, 'previewRevision', @i))
                    """, new { id = "bench-" + (i * 7919 % 8000).ToString(CultureInfo.InvariantCulture), i });
                await Task.Delay(10);
            }
        });
        try
        {
            for (var b = 0; b < batches; b++)
            {
                if (b == holdFrom)
                {
                    open = await holder.BeginTransactionAsync();
                    await holder.ExecuteAsync("SELECT pg_current_xact_id()", transaction: open);
                }
                await c.ExecuteAsync("CALL bench_batch(@b, @bench, @other)", new { b, bench = BenchPerBatch, other = OtherPerBatch }, commandTimeout: 300);
                Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
                await c.ExecuteAsync("SELECT eventhub_fold_pending(2147483647)"); // as the hub's upkeep does after ticks
                if ((b + 1) % (Batches / 2) != 0) continue;
                var rows = await c.ExecuteScalarAsync<long>("SELECT count(*) FROM change_log");
                output.WriteLine($"--- log of {rows:N0} rows, a writer{(open is null ? "" : " and an open transaction")}; " + await TableStatsAsync(c));
                await measure(c, rows, open is not null);
            }
        }
        finally
        {
            stop.Cancel();
            await writer;
            if (open is not null) await open.RollbackAsync();
        }
    }

    /// <summary>
    /// One transaction of the log: project bench's events (10,000 entities: 8,000 sessions, 1,000
    /// PRs, 600 checks, 400 review threads, created once and then updated), and other projects'
    /// sessions. Payloads have the shape the source tables' triggers write.
    /// </summary>
    private const string GenerateBatch = """
        CREATE PROCEDURE bench_batch(b int, bench_n int, other_n int) LANGUAGE sql AS $$
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        SELECT 'bench', 'bench-' || (e % 8000),
               CASE WHEN e < 8000 THEN CASE WHEN k < 10000 THEN 'session_created' ELSE 'session_updated' END
                    WHEN e < 9000 THEN CASE WHEN k < 10000 THEN 'pr_created' ELSE 'pr_updated' END
                    WHEN e < 9600 THEN 'pr_check_recorded'
                    ELSE CASE WHEN k % 3 = 0 THEN 'pr_review_thread_resolved' ELSE 'pr_review_thread_added' END END,
               CASE WHEN e < 8000 THEN jsonb_build_object('id', 'bench-' || e, 'activity', (ARRAY['active','idle','waiting'])[1 + k % 3],
                                         'isTerminated', false, 'previewUrl', 'https://preview.example/bench-' || e, 'previewRevision', k / 10000)
                    WHEN e < 9000 THEN jsonb_build_object('url', 'https://git.example/bench/pull/' || e, 'session', 'bench-' || (e % 8000), 'state', 'open',
                                         'ci', (ARRAY['pending','passing','failing'])[1 + k % 3], 'review', 'none', 'mergeability', 'mergeable')
                    WHEN e < 9600 THEN jsonb_build_object('pr', 'https://git.example/bench/pull/' || (8000 + e % 1000), 'name', 'ci-' || e, 'commit', 'c' || e,
                                         'status', (ARRAY['pending','passing','failing'])[1 + k % 3])
                    ELSE jsonb_build_object('pr', 'https://git.example/bench/pull/' || (8000 + e % 1000), 'thread', 't' || e, 'path', 'src/f' || e || '.cs',
                                         'line', k % 500, 'resolved', k % 3 = 0) END
        FROM (SELECT k, k % 10000 AS e FROM generate_series(b::bigint * bench_n, (b + 1)::bigint * bench_n - 1) AS k) g;
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        SELECT 'p' || (k % 20), 'p' || (k % 20) || '-' || (k % 40000),
               CASE WHEN k < 40000 THEN 'session_created' ELSE 'session_updated' END,
               jsonb_build_object('id', 'p' || (k % 20) || '-' || (k % 40000), 'activity', 'active', 'isTerminated', false,
                                  'previewUrl', null, 'previewRevision', k / 40000)
        FROM generate_series(b::bigint * other_n, (b + 1)::bigint * other_n - 1) AS k;
        $$;
        """;

    /// <summary>The last statement a session of this application ran that mentions the table (pg_stat_activity keeps it while the pooled session idles).</summary>
    private static async Task<string> TableStatsAsync(NpgsqlConnection c)
    {
        var stats = await c.QueryAsync<(string, long, long, long, DateTime?, DateTime?)>("""
            SELECT relname::text, n_live_tup, n_dead_tup, n_mod_since_analyze, last_autovacuum, last_autoanalyze
            FROM pg_stat_user_tables WHERE relname IN ('change_log', 'eventhub_state') ORDER BY relname
            """);
        return string.Join("; ", stats.Select(s => $"{s.Item1}: {s.Item2} live, {s.Item3} dead, {s.Item4} modified since analyze, " +
            $"autovacuum {(s.Item5 is null ? "never" : "ran")}, autoanalyze {(s.Item6 is null ? "never" : "ran")}"));
    }

    private (long Buffers, double Ms) Report(string name, JsonElement plan)
    {
        var buffers = plan.GetProperty("Shared Hit Blocks").GetInt64() + plan.GetProperty("Shared Read Blocks").GetInt64();
        var ms = plan.GetProperty("Actual Total Time").GetDouble();
        output.WriteLine($"{name}: {plan.GetProperty("Actual Rows")} rows, {buffers} buffers, {ms.ToString("F1", CultureInfo.InvariantCulture)} ms, " +
            $"temp written {plan.GetProperty("Temp Written Blocks")}");
        foreach (var (node, depth) in Walk(plan, 1))
            output.WriteLine($"{new string(' ', 2 * depth)}{Type(node)}{(node.TryGetProperty("Index Name", out var i) ? " using " + i.GetString() : "")}" +
                $"{(Relation(node) is { } r ? " on " + r : "")}: {node.GetProperty("Actual Rows")} rows x {node.GetProperty("Actual Loops")}");
        return (buffers, ms);
    }

    /// <summary>The state read's plan: its SQL, in a transaction with its setting (LiveStateReader.PlanSetting), as the reader runs it.</summary>
    private static async Task<JsonElement> ExplainStateAsync(NpgsqlDataSource dataSource, EventFilter filter)
    {
        await using var c = await dataSource.OpenConnectionAsync();
        await using var transaction = await c.BeginTransactionAsync();
        await c.ExecuteAsync(LiveStateReader.PlanSetting(filter), transaction: transaction);
        var (sql, parameters) = LiveStateReader.Sql(filter);
        return JsonDocument.Parse(await c.QuerySingleAsync<string>("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, parameters, transaction))
            .RootElement[0].GetProperty("Plan");
    }

    private static async Task<JsonElement> ExplainAsync(NpgsqlDataSource dataSource, string sql, object args)
    {
        await using var c = await dataSource.OpenConnectionAsync();
        return await ExplainAsync(c, sql, args);
    }

    private static async Task<JsonElement> ExplainAsync(NpgsqlConnection c, string sql, object args) =>
        JsonDocument.Parse(await c.QuerySingleAsync<string>("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, args)).RootElement[0].GetProperty("Plan");

    private static string? Type(JsonElement n) => n.GetProperty("Node Type").GetString();
    private static string? Relation(JsonElement n) => n.TryGetProperty("Relation Name", out var r) ? r.GetString() : null;
    private static double Input(JsonElement sort)
    {
        var input = sort.GetProperty("Plans").EnumerateArray().First(p => p.GetProperty("Parent Relationship").GetString() == "Outer");
        return input.GetProperty("Actual Rows").GetDouble() * input.GetProperty("Actual Loops").GetDouble();
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement node) => Walk(node, 0).Select(x => x.Node);

    private static IEnumerable<(JsonElement Node, int Depth)> Walk(JsonElement node, int depth)
    {
        yield return (node, depth);
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray())
                foreach (var n in Walk(child, depth + 1))
                    yield return n;
    }
}
