using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Storage;

/// <summary>
/// The triggers write, for every type of the one description (<c>Contracts/event-types.json</c>),
/// exactly the described payload fields with their JSON types: the description both clients'
/// types are derived from is the database's truth, not a copy of it.
/// </summary>
public sealed class EventDescriptionTriggerTests
{
    [Fact]
    public async Task Each_described_type_is_written_by_the_triggers_with_exactly_its_described_fields()
    {
        await using var db = await TestDatabase.CreateAsync();
        var w = db.Writer;
        var s1 = await w.SessionAsync("ao", 1);
        await w.SessionActivityAsync(s1, "idle");
        var pr = await w.PrAsync(s1, 1);
        await w.PrStateAsync(pr, ci: "passing", review: "approved", mergeability: "mergeable");
        var s2 = await w.SessionAsync("ao", 2);
        await w.PrSessionAsync(pr, s2);
        await w.CheckAsync(pr, "build", "c1", "passed");
        await w.ThreadAsync(pr, "T1", "a.cs", 3);
        await w.ResolveThreadAsync(pr, "T1");
        await using var c = await db.DataSource.OpenConnectionAsync();
        var rows = (await c.QueryAsync<(string Type, string Payload)>("SELECT event_type, payload::text FROM change_log ORDER BY seq")).ToList();

        var description = JsonNode.Parse(await File.ReadAllTextAsync(DescriptionPath()))!["types"]!.AsArray();
        foreach (var type in description)
        {
            var name = type!["type"]!.GetValue<string>();
            var row = rows.FirstOrDefault(r => r.Type == name);
            Assert.True(row.Payload is not null, $"the writes above made no {name} row");
            using var payload = JsonDocument.Parse(row.Payload);
            var actual = payload.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind);
            var fields = type["payload"]!.AsArray().Select(f => f!).ToList();
            Assert.Equal(fields.Select(f => f["name"]!.GetValue<string>()).Order(), actual.Keys.Order());
            foreach (var f in fields)
            {
                var kind = actual[f["name"]!.GetValue<string>()];
                var nullable = f["nullable"]?.GetValue<bool>() ?? false;
                var expected = f["type"]!.GetValue<string>() switch
                {
                    "string" => JsonValueKind.String,
                    "integer" => JsonValueKind.Number,
                    _ => kind is JsonValueKind.True or JsonValueKind.False ? kind : JsonValueKind.True,
                };
                Assert.True(kind == expected || (nullable && kind == JsonValueKind.Null), $"{name}.{f["name"]} is {kind}");
            }
        }
    }

    private static string DescriptionPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EventHub.sln"))) return Path.Combine(dir.FullName, "Contracts", "event-types.json");
        throw new InvalidOperationException($"No EventHub.sln above {AppContext.BaseDirectory}.");
    }
}
