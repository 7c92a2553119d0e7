using Dapper;
using EventHub.State;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// Without retention the live state's durable base is still brought up to the newest tick every
/// <c>State:BaseInterval</c>, so a rebuild after a crash reads only the log since then (migration 0016).
/// </summary>
public sealed class LiveStateUpkeepTests
{
    [Fact]
    public async Task The_base_catches_up_with_the_state_every_interval_without_retention()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["State:BaseInterval"] = "00:00:00.100" });
        await db.Writer.ProjectAsync("a");
        for (var i = 1; i <= 10; i++) await db.Writer.SessionAsync("a", i);
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=a&after=0");
        await sse.ReadEventsAsync(10); // the ten sessions: all ticked

        // A pass folds the pending ticks into the state, then the ticks up to the newest into the
        // base: a tick made between the two is in the base a pass (RebuildCheckInterval) before it
        // is in the state, so the test waits for both (it compared as soon as the base had all ten
        // and once found the state a session short).
        await using var c = await db.DataSource.OpenConnectionAsync();
        await TaskTimeouts.UntilAsync(async () => await c.QuerySingleAsync<long>("SELECT count(*) FROM eventhub_state_base") == 10,
            because: "the base never caught up with the state");
        await TaskTimeouts.UntilAsync(async () => await c.QuerySingleAsync<long>("SELECT count(*) FROM eventhub_state") == 10,
            because: "the state never folded the ten sessions");
        const string Difference = """
            SELECT count(*) FROM ((SELECT * FROM eventhub_state EXCEPT SELECT * FROM eventhub_state_base)
                                  UNION ALL (SELECT * FROM eventhub_state_base EXCEPT SELECT * FROM eventhub_state)) d
            """;
        Assert.Equal(0, await c.QuerySingleAsync<long>(Difference));
        Assert.Equal(await c.QuerySingleAsync<long>("SELECT max(tick_id) FROM eventhub_tick"), await hub.Get<LiveStateUpkeep>().AdvanceAsync());
    }
}
