using System.Globalization;
using System.Text.Json;
using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventHub.Tests.Storage;

/// <summary>
/// The tail's query must stay a cheap, index-bound read: on a log of a few hundred rows the planner
/// once estimated 446,600 rows for its join (the one-row bookkeeping tables had never been
/// analyzed) and JIT-compiled every read, 92 ms instead of 4 ms.
/// </summary>
public sealed class PlannerTests
{
    /// <summary>PostgreSQL's default <c>jit_above_cost</c>.</summary>
    private const double JitAboveCost = 100_000;

    [Fact]
    public async Task The_hubs_database_sessions_run_with_jit_off()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString);

        // Twice: the second session is a pooled one, reset when it went back to the pool.
        for (var i = 0; i < 2; i++)
        {
            await using var connection = await hub.Get<NpgsqlDataSource>().OpenConnectionAsync().WithTimeout();
            Assert.Equal("off", await connection.ExecuteScalarAsync<string>("SHOW jit"));
        }
    }

    [Fact]
    public async Task The_tail_query_on_a_few_thousand_rows_is_planned_far_below_the_jit_threshold()
    {
        // The bookkeeping tables as the migrations leave them; change_log as autovacuum would.
        await using var db = await TestDatabase.CreateAsync();
        await using (var c = await db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT 'p' || (i % 20), 'session_created', '{}' FROM generate_series(1, 5000) AS i
                """);
            await c.ExecuteAsync("ANALYZE change_log");
        }

        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var explain = new NpgsqlCommand("EXPLAIN (FORMAT JSON) " + ChangeLogReader.TailReadSql, connection);
        explain.Parameters.AddWithValue("tick", 0L);
        explain.Parameters.AddWithValue("x", "0");
        explain.Parameters.AddWithValue("s", 0L);
        explain.Parameters.AddWithValue("limit", 1000);
        explain.Parameters.AddWithValue("bytes", 4_194_304L);
        var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!).RootElement[0].GetProperty("Plan");

        var cost = plan.GetProperty("Total Cost").GetDouble();
        var rows = plan.GetProperty("Plan Rows").GetDouble();
        Assert.True(cost < JitAboveCost / 10, $"The tail query is estimated at cost {cost.ToString(CultureInfo.InvariantCulture)}: " +
            "a read of at most 1000 rows should be nowhere near jit_above_cost.");
        Assert.True(rows <= 1000, $"The tail query is estimated to return {rows.ToString(CultureInfo.InvariantCulture)} rows; it returns at most its limit.");
    }
}
