using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.State;

/// <summary>
/// The live state is unlogged (migration 0016): a crash of the database empties it, and it is
/// rebuilt from the durable base (which retention keeps) and the log, by the first state read or by
/// the hub's background check, whichever comes first; ticks meanwhile leave it alone (a tick folds
/// only right after the tick the state is folded through, migration 0020), and the rebuild makes it
/// the state through the newest tick. Across crashes and retention the state stays exactly what it was,
/// entities whose events were pruned included.
/// </summary>
[Collection(AloneCollection.Name)] // stops its own cluster twice; keeps CPU-heavy neighbours from stretching the restarts
public sealed class StateCrashTests
{
    [Fact]
    public async Task After_a_crash_the_state_is_rebuilt_from_the_base_and_the_log_by_a_read_or_in_the_background()
    {
        await using var cluster = await PrivateCluster.CreateAsync("crash");
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        var writer = new SourceWriter(dataSource);
        // This hub never checks in the background: only its reads rebuild.
        await using var hub = await HubServer.StartAsync(cluster.ConnectionString, new Dictionary<string, string?>
        {
            ["Retention:MaxEvents"] = "5",
            ["Retention:Interval"] = "00:00:00.200",
            ["State:RebuildCheckInterval"] = "01:00:00",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await writer.ProjectAsync("a");
        for (var i = 1; i <= 20; i++) await writer.SessionAsync("a", i);
        // Retention pruned the events of most sessions: only the base still has them.
        await TaskTimeouts.UntilAsync(() => CountAsync(dataSource, "SELECT count(*) FROM change_log").GetAwaiter().GetResult() <= 5,
            because: "retention did not prune", timeout: TimeSpan.FromSeconds(60));
        for (var i = 21; i <= 23; i++) await writer.SessionAsync("a", i); // in ticks after the base's mark
        var before = await StateAsync(http, expectedEntities: 23);
        Assert.Equal(Enumerable.Range(1, 23).Select(i => $"[\"a-{i}\"]").Order(), before.Keys.Order());

        // Crash 1: the next state read finds the state emptied and has it rebuilt.
        await CrashAsync(cluster);
        Assert.Equal(0, await CountAsync(dataSource, "SELECT count(*) FROM eventhub_state"));
        Assert.Equal(0, await CountAsync(dataSource, "SELECT count(*) FROM eventhub_state_ready"));
        Assert.Equal(before, await StateAsync(http, expectedEntities: 23));

        // Crash 2: a tick holds a new event but does not fold it into the emptied state (it is not
        // whole: no through_tick), then a second hub's background check rebuilds it, without any read.
        await CrashAsync(cluster);
        var lastTick = await CountAsync(dataSource, "SELECT max(tick_id) FROM eventhub_tick");
        await writer.SessionAsync("a", 24);
        await TaskTimeouts.UntilAsync(() => CountAsync(dataSource, "SELECT max(tick_id) FROM eventhub_tick").GetAwaiter().GetResult() > lastTick,
            because: "no tick held the new event", timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(0, await CountAsync(dataSource, "SELECT count(*) FROM eventhub_state"));
        Assert.Equal(0, await CountAsync(dataSource, "SELECT count(*) FROM eventhub_state_ready"));
        await using var checking = await HubServer.StartAsync(cluster.ConnectionString,
            new Dictionary<string, string?> { ["State:RebuildCheckInterval"] = "00:00:00.100" });
        await TaskTimeouts.UntilAsync(() => CountAsync(dataSource, "SELECT count(*) FROM eventhub_state_ready").GetAwaiter().GetResult() == 1,
            because: "the background check did not rebuild the state", timeout: TimeSpan.FromSeconds(60));
        var after = await StateAsync(http, expectedEntities: 24);
        Assert.Equal(before, after.Where(e => e.Key != "[\"a-24\"]").ToDictionary());
        Assert.True(after.ContainsKey("[\"a-24\"]"));
    }

    private static async Task CrashAsync(PrivateCluster cluster)
    {
        await cluster.StopImmediatelyAsync();
        await cluster.StartAsync();
    }

    private static async Task<long> CountAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var c = await dataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>(sql);
    }

    /// <summary>The state's entities, key to the offset of their event; retried while the hub reconnects after a restart.</summary>
    private static async Task<Dictionary<string, string>> StateAsync(HttpClient http, int expectedEntities)
    {
        Dictionary<string, string>? state = null;
        await TaskTimeouts.UntilAsync(() =>
        {
            try
            {
                var json = http.GetFromJsonAsync<JsonElement>("/api/v1/state").GetAwaiter().GetResult();
                state = json.GetProperty("entities").EnumerateArray()
                    .ToDictionary(e => e.GetProperty("key").GetRawText(), e => e.GetProperty("event").GetProperty("offset").GetString()!);
                return state.Count >= expectedEntities;
            }
            catch (HttpRequestException)
            {
                return false; // the hub's pool still holds connections of the stopped server
            }
        }, because: $"the state never held {expectedEntities} entities", timeout: TimeSpan.FromSeconds(60));
        return state!;
    }
}
