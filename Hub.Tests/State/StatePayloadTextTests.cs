using System.Text.Json;
using Dapper;
using EventHub.Log;
using EventHub.State;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// The state keeps each entity's payload as text (migration 0024): the fold converts it once, and a
/// state read sends it as stored. Before, the read converted every entity's jsonb with its output
/// function, about a third of the statement's time. Fails without the migration: the read's plan
/// converts <c>payload</c> to text.
/// </summary>
public sealed class StatePayloadTextTests
{
    [Fact]
    public async Task A_state_read_sends_each_payload_as_the_fold_stored_it_and_converts_none()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        // Payloads whose text form matters: escapes, non-ASCII, nesting, numbers, null.
        await c.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'p', 'session_created', jsonb_build_object('id', 's' || i, 'activity', 'idle "quoted" \ ü ✓',
                'isTerminated', i % 2 = 0, 'n', i * 1.5, 'nested', jsonb_build_object('a', ARRAY[1, 2]), 'none', NULL)
            FROM generate_series(1, 20) i
            """);
        Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
        await c.ExecuteAsync("SELECT eventhub_fold_pending(2147483647)");
        // A tick not folded yet: the read takes its rows itself (eventhub_pending_state).
        await c.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            VALUES ('p', 'session_created', '{"id": "s21", "activity": "active ✓"}'), ('p', 'session_created', '{"id": "s1", "activity": "exited"}')
            """);
        Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));

        // Stored as the log's own text form of the payload, in the state and in its durable base.
        var head = await c.QuerySingleAsync<long>("SELECT max(tick_id) FROM eventhub_tick");
        await c.ExecuteAsync("SELECT eventhub_advance_state_base(@head)", new { head });
        foreach (var table in new[] { "eventhub_state", "eventhub_state_base" })
        {
            Assert.Equal("text", await c.QuerySingleAsync<string>(
                "SELECT data_type FROM information_schema.columns WHERE table_name = @table AND column_name = 'payload'", new { table }));
            Assert.Equal(0, await c.QuerySingleAsync<long>(
                $"SELECT count(*) FROM {table} s JOIN change_log l ON l.seq = s.seq WHERE s.payload IS DISTINCT FROM l.payload::text"));
        }

        // The read: every entity's newest payload, equal to the log's.
        var reader = new LiveStateReader(db.DataSource, new ChangeLogReader(db.DataSource));
        var filter = new EventFilter(["p"], null);
        var state = await reader.ReadAsync(filter, CancellationToken.None);
        Assert.Equal(21, state.Entities.Count);
        var logged = (await c.QueryAsync<(long Seq, string Payload)>("SELECT seq, payload::text FROM change_log")).ToDictionary(r => r.Seq, r => r.Payload);
        foreach (var (_, _, e) in state.Entities)
            Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(logged[e.Seq]).RootElement, JsonDocument.Parse(e.Payload).RootElement),
                $"{e.Seq}: {logged[e.Seq]} read as {System.Text.Encoding.UTF8.GetString(e.Payload.Span)}");
        Assert.Equal("exited", JsonDocument.Parse(state.Entities.Single(x => x.Event.Seq == logged.Keys.Max()).Event.Payload).RootElement
            .GetProperty("activity").GetString());

        // Its plan converts no payload: each is sent as stored.
        await using var transaction = await c.BeginTransactionAsync();
        await c.ExecuteAsync(LiveStateReader.PlanSetting(filter), transaction: transaction);
        var (sql, parameters) = LiveStateReader.Sql(filter);
        var plan = JsonDocument.Parse(await c.QuerySingleAsync<string>("EXPLAIN (VERBOSE, FORMAT JSON) " + sql, parameters, transaction));
        var outputs = Outputs(plan.RootElement[0].GetProperty("Plan")).ToList();
        Assert.Contains(outputs, o => o.EndsWith(".payload", StringComparison.Ordinal));
        Assert.DoesNotContain(outputs, o => o.Contains("payload)::text", StringComparison.Ordinal));
    }

    private static IEnumerable<string> Outputs(JsonElement node)
    {
        if (node.TryGetProperty("Output", out var output))
            foreach (var o in output.EnumerateArray())
                yield return o.GetString()!;
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray())
                foreach (var o in Outputs(child))
                    yield return o;
    }
}
