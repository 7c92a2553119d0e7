using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// Migration 0011 keys entities with an inlinable expression instead of migration 0009's subquery
/// per event. Clients key streamed events by that text (docs/live-state.md), so it must
/// not change: both forms are compared here on payloads that could tell them apart.
/// </summary>
public sealed class EntityKeyTests
{
    /// <summary>Migration 0009's form, the reference.</summary>
    private const string Reference =
        "(SELECT jsonb_agg(p -> u.f ORDER BY u.o) FROM unnest(fields) WITH ORDINALITY AS u(f, o))::text";

    private static readonly string[] Payloads =
    [
        """{"a":"x","b":"y","c":"z","d":"w","e":"v"}""",
        """{"a":"x"}""", // missing fields: null in the key
        """{"a":null,"b":1.50,"c":-0,"d":1e3,"e":true}""",
        """{"a":{"z":1,"y":[1,2,{"q":null}]},"b":[],"c":{},"d":"quote \" and \\ and \u00e9 and \ud83d\ude00"}""",
        """{"b":"only b","e":"only e"}""",
        """{}""",
    ];

    private static readonly string[] FieldSets = ["{a}", "{a,b}", "{a,b,c}", "{a,b,c,d}", "{a,b,c,d,e}", "{e,a}", "{zz}"];

    [Fact]
    public async Task The_key_function_gives_the_text_of_migration_0009_for_every_field_count_and_odd_payloads()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        var compared = 0;
        foreach (var payload in Payloads)
        foreach (var fields in FieldSets)
        {
            var (actual, expected) = await c.QuerySingleAsync<(string, string)>(
                $"SELECT eventhub_entity_key(p, fields), {Reference} FROM (SELECT @payload::jsonb AS p, @fields::text[] AS fields) s",
                new { payload, fields });
            Assert.Equal(expected, actual);
            compared++;
        }
        Assert.Equal(Payloads.Length * FieldSets.Length, compared);
    }

    [Fact]
    public async Task The_fold_and_the_state_read_key_entities_of_one_to_five_fields_as_migration_0009_did()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        // One configured type per field set (as State:EntityKeys adds them), one event of each per payload.
        for (var i = 0; i < FieldSets.Length; i++)
            await c.ExecuteAsync("INSERT INTO eventhub_entity_key (event_type, kind, key_fields) VALUES (@type, @type, @fields::text[])",
                new { type = $"k{i}", fields = FieldSets[i] });
        foreach (var payload in Payloads)
            for (var i = 0; i < FieldSets.Length; i++)
                await c.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('p', @type, @payload::jsonb)",
                    new { type = $"k{i}", payload });
        Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
        // What a state read merges before the fold (eventhub_state_of_ticks over the ticks after the mark).
        var tick = await c.QuerySingleAsync<long>("SELECT max(tick_id) FROM eventhub_tick");
        await AssertKeysAsync("SELECT kind || ' ' || entity_key FROM eventhub_state_of_ticks(@after, @tick) WHERE project_id = 'p' ORDER BY 1");
        // The fold after the tick (eventhub_fold_ticks, over change_log, as LiveStateUpkeep runs it).
        await c.ExecuteAsync("SELECT eventhub_fold_pending(1000)");
        await AssertKeysAsync("SELECT kind || ' ' || entity_key FROM eventhub_state WHERE project_id = 'p' ORDER BY 1");

        async Task AssertKeysAsync(string actualSql)
        {
            // Each entity's key as the reference computes it from its latest event in the log.
            var expected = (await c.QueryAsync<string>($"""
                SELECT DISTINCT k.kind || ' ' || r.key FROM change_log l JOIN eventhub_entity_key k ON k.event_type = l.event_type,
                LATERAL (SELECT {Reference.Replace("p ->", "l.payload ->").Replace("unnest(fields)", "unnest(k.key_fields)")} AS key) r
                WHERE l.project_id = 'p' ORDER BY 1
                """)).ToList();
            var actual = (await c.QueryAsync<string>(actualSql, new { after = tick - 1, tick })).ToList();
            Assert.Equal(expected, actual);
            Assert.True(actual.Count > FieldSets.Length * 3, $"only {actual.Count} entities: the payloads do not tell keys apart");
        }
    }
}
