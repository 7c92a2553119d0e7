using System.Globalization;
using Dapper;
using EventHub.Log;
using EventHub.Observability;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Storage;

/// <summary>
/// A log without planner statistics (a database after pg_upgrade, which carries none over, or a log
/// autovacuum has not analyzed yet): the planner's default selectivities made the reads with no
/// project filter (the tail's on a node that does not tick, catch-ups, the window load) and the
/// metrics' lag count sequential scans of change_log, the lag count a Sort of the rest of the log
/// as well. The hub analyzes such tables when it starts (<see cref="EventHub.Storage.PlannerStatistics"/>);
/// from then on every read is an index range scan. <see cref="LargeLogPlanTests"/> covers the
/// analyzed log.
/// </summary>
public sealed class UnanalyzedLogPlanTests(ITestOutputHelper output)
{
    private const int Rows = 20_000;
    private const int RowsPerTick = 100;
    /// <summary>A page as catch-ups read it (the default page size).</summary>
    private static readonly int Limit = new EventHub.Streaming.StreamOptions().CatchUpBatchSize;

    [Fact]
    public async Task A_hub_that_starts_on_a_log_without_statistics_analyzes_it_and_every_read_is_an_index_range_scan()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        // Autovacuum must not analyze the log during the test (it may within its naptime).
        await c.ExecuteAsync("ALTER TABLE change_log SET (autovacuum_enabled = off)");
        // As writers write it: one transaction (one xid) per row, a tick every 100 rows.
        await c.ExecuteAsync("""
            CREATE PROCEDURE pg_temp.write_log(n int, per_tick int) LANGUAGE plpgsql AS $$
            BEGIN
                FOR i IN 1..n LOOP
                    INSERT INTO change_log (project_id, session_id, event_type, payload)
                    VALUES ('p' || (i % 20), 's', 'session_updated', jsonb_build_object('id', 's' || (i % 500)));
                    COMMIT;
                    IF i % per_tick = 0 THEN PERFORM eventhub_make_tick(); COMMIT; END IF;
                END LOOP;
            END $$
            """);
        await c.ExecuteAsync("SET synchronous_commit = off");
        await c.ExecuteAsync("CALL pg_temp.write_log(@Rows, @RowsPerTick)", new { Rows, RowsPerTick }, commandTimeout: 120);
        Assert.Equal(0, await c.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_stats WHERE tablename = 'change_log'"));

        var last = await c.ExecuteScalarAsync<long>("SELECT max(tick_id) FROM eventhub_tick");
        var reads = await ReadsAsync(c, last);
        // The reads run in a session as the hub opens them (its settings: HubDataSources).
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "plan-test");
        await using var hub = await hubSessions.OpenConnectionAsync();

        // The trap: without statistics, reads of change_log are sequential.
        var before = await FaultsAsync(hub, reads, "no statistics");
        Assert.True(before.Count > 0, "Without statistics every read was an index range scan already: the test no longer shows the trap.");

        await using (await HubServer.StartAsync(db.ConnectionString))
            Assert.True(await c.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_stats WHERE tablename = 'change_log'") > 0,
                "The hub started without analyzing change_log.");
        var after = await FaultsAsync(hub, reads, "after the hub's start");
        Assert.True(after.Count == 0, string.Join("\n", after));

        // The counts themselves: everything after the start's tick (up to the cap), nothing after the last tick.
        Assert.Equal(EventHubMetrics.LagEventsCap, await UnpublishedRowsSql.CountAsync(hub, LogPosition.EndOf(2), EventHubMetrics.LagEventsCap, CancellationToken.None));
        Assert.Equal(0, await UnpublishedRowsSql.CountAsync(hub, LogPosition.EndOf(last), EventHubMetrics.LagEventsCap, CancellationToken.None));
    }

    /// <summary>Every read of the hub, at the start, the middle and the end of the log: the tail's and catch-ups', the window load, the lag count.</summary>
    private static async Task<List<(string Name, string Sql, Dictionary<string, object> Args)>> ReadsAsync(NpgsqlConnection c, long last)
    {
        var reads = new List<(string Name, string Sql, Dictionary<string, object> Args)>();
        foreach (var (where, tick) in new[] { ("start", 2L), ("middle", last / 2), ("end", last - 5) })
        {
            var (x, s) = await c.QuerySingleAsync<(string, long)>("""
                SELECT r.tx_id::text, r.seq FROM eventhub_tick t, change_log r
                WHERE t.tick_id = @tick AND r.tx_id >= t.lo AND r.tx_id < t.hi AND pg_visible_in_snapshot(r.tx_id, t.snap)
                ORDER BY r.tx_id, r.seq OFFSET @half LIMIT 1
                """, new { tick, half = RowsPerTick / 2 });
            reads.AddRange(QueryPlans.LogReadsAt(where, tick, x, s, Limit));
            // The lag count as the metrics' sampler runs it (its cap), from the tick's end and from inside it.
            var end = LogPosition.EndOf(tick);
            reads.Add(($"lag count, {where}, tick end", UnpublishedRowsSql.AfterTick, new()
            {
                ["tick"] = tick, ["x"] = end.TransactionId.ToString(CultureInfo.InvariantCulture), ["s"] = end.Seq, ["cap"] = EventHubMetrics.LagEventsCap,
            }));
            reads.Add(($"lag count, {where}, inside the tick", UnpublishedRowsSql.AfterTick, new()
            {
                ["tick"] = tick, ["x"] = x, ["s"] = s, ["cap"] = EventHubMetrics.LagEventsCap,
            }));
        }
        return reads;
    }

    /// <summary>What is wrong with each read's plan: a sequential read of change_log, or a Sort of more than a few pages of rows.</summary>
    private async Task<List<string>> FaultsAsync(NpgsqlConnection hub, List<(string Name, string Sql, Dictionary<string, object> Args)> reads, string when)
    {
        var faults = new List<string>();
        foreach (var (name, sql, args) in reads)
        {
            var (plan, _) = await QueryPlans.ExplainAsync(hub, sql, args);
            output.WriteLine($"{when}: {name}: {plan.GetProperty("Actual Rows").GetDouble()} rows, " +
                $"{plan.GetProperty("Actual Total Time").GetDouble().ToString("F1", CultureInfo.InvariantCulture)} ms");
            if (QueryPlans.SequentialReadsOf(plan, "change_log").Any()) faults.Add($"{name}: a sequential read of change_log");
            // Whatever the plan (these are the sequential ones too), a page comes in position order.
            if (sql != UnpublishedRowsSql.AfterTick)
                Assert.Null(await QueryPlans.OrderFaultAsync(hub, sql, args));
            foreach (var sort in QueryPlans.Flatten(plan).Where(n => n.GetProperty("Node Type").GetString() == "Sort"))
            {
                var input = sort.GetProperty("Plans")[0].GetProperty("Actual Rows").GetDouble() * sort.GetProperty("Plans")[0].GetProperty("Actual Loops").GetDouble();
                if (input > 3 * Limit) faults.Add($"{name}: a Sort of {input} rows");
            }
        }
        return faults;
    }
}
