using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// The live state's key compares bytewise whatever the database's collation (migration 0015): in a
/// database with a language's collation every B-tree step of the fold compared entity keys by that
/// language's rules (twice the fold's time with a libc en_US.UTF-8 collation, lab). ICU's en-US
/// stands in for it here: it needs no operating-system locale on the test machine.
/// </summary>
public sealed class StateCollationTests
{
    private const string LanguageCollation = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'";

    [Fact]
    public async Task In_a_database_with_a_language_collation_the_state_key_and_its_index_compare_bytewise()
    {
        await using var db = await TestDatabase.CreateAsync(createOptions: LanguageCollation);
        await using var c = await db.DataSource.OpenConnectionAsync();
        Assert.True(await c.ExecuteScalarAsync<bool>("SELECT 'a' < 'B'"), "the database's own collation is a language's");

        var columns = (await c.QueryAsync<(string Column, string Collation)>("""
            SELECT a.attname, l.collname FROM pg_attribute a JOIN pg_collation l ON l.oid = a.attcollation
            WHERE a.attrelid = 'eventhub_state'::regclass AND a.attname IN ('project_id', 'kind', 'entity_key')
            ORDER BY a.attnum
            """)).ToList();
        Assert.Equal([("project_id", "C"), ("kind", "C"), ("entity_key", "C")], columns);
        // The indexes compare by the columns' collation: bytewise, 'B' before 'a' (the key's hash
        // index, migration 0017, and the project's B-tree the state read takes a range of).
        Assert.Equal(["eventhub_state_entity C", "eventhub_state_project C"], await c.QuerySingleAsync<string[]>("""
            SELECT array_agg(i.indexrelid::regclass::text || ' ' || l.collname ORDER BY i.indexrelid::regclass::text) FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indcollation) AS k(coll) JOIN pg_collation l ON l.oid = k.coll
            WHERE i.indrelid = 'eventhub_state'::regclass
            """));
    }

    [Fact]
    public async Task In_a_database_with_a_language_collation_the_hub_folds_and_reads_the_state()
    {
        await using var db = await TestDatabase.CreateAsync(createOptions: LanguageCollation);
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        // Keys that a language's collation and a bytewise one order differently.
        var a = await db.Writer.SessionAsync("ao", 1);
        var pr = await db.Writer.PrAsync(a, 7);
        await db.Writer.CheckAsync(pr, "build", "c1", "queued");
        await db.Writer.CheckAsync(pr, "Build", "c1", "queued");
        await db.Writer.CheckAsync(pr, "build", "c1", "passed"); // an update of the first check
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // every write above is in a tick

        var state = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        var entities = state.GetProperty("entities").EnumerateArray()
            .Select(e => $"{e.GetProperty("kind").GetString()} {e.GetProperty("key").GetRawText()} {e.GetProperty("event").GetProperty("type").GetString()}")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(4, entities.Count);
        Assert.Contains(entities, e => e.StartsWith("check ", StringComparison.Ordinal) && e.Contains("\"Build\"", StringComparison.Ordinal));
        var checks = state.GetProperty("entities").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "check")
            .ToDictionary(e => e.GetProperty("key")[1].GetString()!, e => e.GetProperty("event").GetProperty("payload").GetProperty("status").GetString());
        Assert.Equal("passed", checks["build"]);
        Assert.Equal("queued", checks["Build"]);
    }
}
