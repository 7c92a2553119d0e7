using System.Text.Json;
using System.Text.RegularExpressions;
using EventHub.Log;
using Npgsql;

namespace EventHub.Tests.Infrastructure;

/// <summary>EXPLAIN (ANALYZE) of a hub statement as JSON, and the walk over its plan's nodes.</summary>
internal static class QueryPlans
{
    /// <summary>The executed plan's root node and the planning time (ms) of <paramref name="sql"/> with <paramref name="args"/>.</summary>
    public static async Task<(JsonElement Plan, double PlanningMs)> ExplainAsync(NpgsqlConnection c, string sql, IReadOnlyDictionary<string, object> args)
    {
        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, c);
        foreach (var (key, value) in args) explain.Parameters.AddWithValue(key, value);
        var root = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!).RootElement[0];
        return (root.GetProperty("Plan"), root.TryGetProperty("Planning Time", out var planning) ? planning.GetDouble() : double.NaN);
    }

    /// <summary>
    /// The generic plan of <paramref name="sql"/>, executed with <paramref name="args"/>: the plan
    /// PostgreSQL keeps for a prepared statement once it is no dearer than the plans made with the
    /// values (the reader prepares its forward read). PostgreSQL 15 has no EXPLAIN (GENERIC_PLAN):
    /// the statement is prepared in SQL with its parameters' types and explained with
    /// <c>plan_cache_mode = force_generic_plan</c>, which the session keeps until <see cref="ForgetGenericAsync"/>.
    /// Returns the root node and the statement that executes the prepared one with those values (for <see cref="PositionsAsync"/>).
    /// </summary>
    public static async Task<(JsonElement Plan, string Execute)> ExplainGenericAsync(NpgsqlConnection c, string sql, IReadOnlyDictionary<string, object> args)
    {
        var names = new List<string>();
        var positional = Regex.Replace(sql, "@([A-Za-z_][A-Za-z0-9_]*)", m =>
        {
            if (!names.Contains(m.Groups[1].Value)) names.Add(m.Groups[1].Value);
            return "$" + (names.IndexOf(m.Groups[1].Value) + 1);
        });
        var types = names.Select(n => args[n] switch
        {
            long => "bigint",
            int => "integer",
            string => "text",
            string[] => "text[]",
            var other => throw new ArgumentException($"no SQL type for parameter {n} of {other.GetType()}"),
        });
        await ForgetGenericAsync(c);
        await using (var prepare = new NpgsqlCommand(
            $"SET plan_cache_mode = force_generic_plan; PREPARE generic_read({string.Join(", ", types)}) AS {positional}", c))
            await prepare.ExecuteNonQueryAsync();
        // EXECUTE's arguments cannot be bound parameters (a utility statement): literals.
        static string Literal(object value) => value switch
        {
            long or int => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
            string text => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'",
            string[] texts => "ARRAY[" + string.Join(", ", texts.Select(Literal)) + "]::text[]",
            _ => throw new ArgumentException($"no literal for {value.GetType()}"),
        };
        var execute = $"EXECUTE generic_read({string.Join(", ", names.Select(n => Literal(args[n])))})";
        var (plan, _) = await ExplainAsync(c, execute, new Dictionary<string, object>());
        return (plan, execute);
    }

    /// <summary>Drops the statement <see cref="ExplainGenericAsync"/> prepared and puts plan_cache_mode back.</summary>
    public static async Task ForgetGenericAsync(NpgsqlConnection c)
    {
        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE name = 'generic_read'", c);
        var forget = (long)(await prepared.ExecuteScalarAsync())! > 0 ? "DEALLOCATE generic_read; " : "";
        await using var reset = new NpgsqlCommand(forget + "RESET plan_cache_mode", c);
        await reset.ExecuteNonQueryAsync();
    }

    /// <summary>Every node of the plan, the root first.</summary>
    public static IEnumerable<JsonElement> Flatten(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray())
                foreach (var n in Flatten(child))
                    yield return n;
    }

    /// <summary>The nodes that read <paramref name="relation"/> sequentially (Seq Scan, or a Bitmap Heap Scan that reads its pages).</summary>
    public static IEnumerable<JsonElement> SequentialReadsOf(JsonElement plan, string relation) =>
        Flatten(plan).Where(n => n.GetProperty("Node Type").GetString() is "Seq Scan" or "Bitmap Heap Scan"
                                 && (n.TryGetProperty("Relation Name", out var r) ? r.GetString() : null) == relation);

    /// <summary>
    /// Runs a log read (<see cref="TickBatchSql"/>, <see cref="RecentRowsSql"/>) and says where its
    /// rows leave position order (ascending; descending for the window load), or null when they keep
    /// it: the forward read has no ORDER BY of its page and relies on the plan.
    /// </summary>
    public static async Task<string?> OrderFaultAsync(NpgsqlConnection c, string sql, IReadOnlyDictionary<string, object> args)
    {
        var descending = sql == RecentRowsSql.Text;
        var positions = await PositionsAsync(c, sql, args);
        for (var n = 1; n < positions.Count; n++)
            if (descending ? positions[n] >= positions[n - 1] : positions[n] <= positions[n - 1])
                return $"row {n}: {positions[n]} after {positions[n - 1]}";
        return null;
    }

    /// <summary>The positions of the events a log read returns, in the order it returns them.</summary>
    public static async Task<List<LogPosition>> PositionsAsync(NpgsqlConnection c, string sql, IReadOnlyDictionary<string, object> args)
    {
        await using var read = new NpgsqlCommand(sql, c);
        foreach (var (key, value) in args) read.Parameters.AddWithValue(key, value);
        await using var rows = await read.ExecuteReaderAsync();
        var positions = new List<LogPosition>();
        while (await rows.ReadAsync())
            if (!rows.IsDBNull(rows.GetOrdinal("tx")))
                positions.Add(new LogPosition(rows.GetInt64(rows.GetOrdinal("tick_id")),
                    ulong.Parse(rows.GetString(rows.GetOrdinal("tx")), System.Globalization.CultureInfo.InvariantCulture), rows.GetInt64(rows.GetOrdinal("seq"))));
        return positions;
    }

    /// <summary>
    /// The reads of the log from a position inside <paramref name="tick"/> (<paramref name="x"/>,
    /// <paramref name="s"/>), named after <paramref name="where"/>: the tail's (its payloads
    /// bounded in the statement), a catch-up's of all projects, of one (<c>p3</c>) and of three (<c>p3</c>, <c>p7</c>, <c>p11</c>), and the
    /// window load back from the tick's end.
    /// </summary>
    public static IEnumerable<(string Name, string Sql, Dictionary<string, object> Args)> LogReadsAt(string where, long tick, string x, long s, int limit)
    {
        Dictionary<string, object> At() => new() { ["tick"] = tick, ["x"] = x, ["s"] = s, ["limit"] = limit };
        var tail = At(); tail["bytes"] = 4_194_304L;
        yield return ($"the tail, {where}", TickBatchSql.Forward(EventFilter.All, boundPayloads: true), tail);
        yield return ($"all projects, {where}", TickBatchSql.Forward(EventFilter.All), At());
        var one = At(); one["project"] = "p3";
        yield return ($"one project, {where}", TickBatchSql.Forward(new EventFilter(["p3"], null)), one);
        var several = At(); several["projects"] = new[] { "p3", "p7", "p11" };
        yield return ($"three projects, {where}", TickBatchSql.Forward(new EventFilter(["p3", "p7", "p11"], null)), several);
        yield return ($"window load, {where}", RecentRowsSql.Text, new() { ["tick"] = tick, ["limit"] = limit });
    }
}
