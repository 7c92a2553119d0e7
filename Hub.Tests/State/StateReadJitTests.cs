using System.Text.Json;
using Dapper;
using EventHub.Log;
using EventHub.State;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// The state read is never JIT-compiled, whatever its session has (<see cref="LiveStateReader.PlanSetting"/>):
/// with sequential scans off, its one-row tables' scans cost 10^10 each on paper, far past
/// <c>jit_above_cost</c>, and a session with the server's JIT (a pooler that drops the hub's startup
/// options) compiled the read every time: 425 ms against 7.7 ms on a 500,000-event log (lab).
/// Here a session compiles every plan (<c>jit_above_cost = 0</c>): a plain query is compiled, the
/// read, run as the reader runs it, is not.
/// </summary>
public sealed class StateReadJitTests
{
    [Theory]
    [InlineData(true)]  // the projects' ranges, sequential scans off
    [InlineData(false)] // every project
    public async Task The_state_read_is_not_compiled_in_a_session_that_compiles_every_plan(bool projects)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        await c.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'p', 'session_created', jsonb_build_object('id', 's' || i) FROM generate_series(1, 20) i
            """);
        Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
        await c.ExecuteAsync("SELECT eventhub_fold_pending(2147483647)");

        await c.ExecuteAsync("SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = -1; SET jit_optimize_above_cost = -1");
        Assert.True(Compiled(await ExplainAsync(c, "SELECT count(*) FROM eventhub_state", null)),
            "this session compiles every plan (the server has no JIT?)");

        var filter = projects ? new EventFilter(["p"], null) : EventFilter.All;
        await using var transaction = await c.BeginTransactionAsync();
        await c.ExecuteAsync(LiveStateReader.PlanSetting(filter), transaction: transaction);
        var (sql, parameters) = LiveStateReader.Sql(filter);
        var plan = await ExplainAsync(c, sql, parameters, transaction);
        Assert.Equal(20, plan.GetProperty("Plan").GetProperty("Actual Rows").GetDouble() - 1); // the head row and every entity
        Assert.False(Compiled(plan), "the state read was JIT-compiled");
    }

    private static async Task<JsonElement> ExplainAsync(Npgsql.NpgsqlConnection c, string sql, object? parameters,
        Npgsql.NpgsqlTransaction? transaction = null) =>
        JsonDocument.Parse(await c.QuerySingleAsync<string>("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, parameters, transaction)).RootElement[0];

    private static bool Compiled(JsonElement plan) =>
        plan.TryGetProperty("JIT", out var jit) && jit.GetProperty("Functions").GetInt32() > 0;
}

/// <summary>
/// Every function of the schema that prices out sequential scans also turns JIT off (migration
/// 0025): in a session with the server's JIT its statements were compiled on every call (the live
/// state's fold of 30,000 events: 620-700 ms against 131-135 ms, lab). Fails without the migration.
/// </summary>
public sealed class FunctionJitTests
{
    [Fact]
    public async Task Every_function_that_turns_sequential_scans_off_turns_JIT_off_too()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        var functions = (await c.QueryAsync<(string Name, string[] Config)>("""
            SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = current_schema() AND 'enable_seqscan=off' = ANY (p.proconfig)
            """)).ToList();
        Assert.Contains(functions, f => f.Name.StartsWith("eventhub_fold_ticks(", StringComparison.Ordinal));
        Assert.Contains(functions, f => f.Name.StartsWith("eventhub_make_tick_rows(", StringComparison.Ordinal));
        Assert.All(functions, f => Assert.Contains("jit=off", f.Config));
    }
}
