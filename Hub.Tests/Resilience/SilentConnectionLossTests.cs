using System.Diagnostics;
using EventHub.Tests.Infrastructure;
using EventHub.Tests.Operations;

namespace EventHub.Tests.Resilience;

/// <summary>
/// The hub's sessions lost without a reset (<see cref="FreezingRelay"/>: a failover that left the old
/// server unreachable, a firewall's or NAT's dropped state). Nothing tells either end: before, the
/// ticker's next round waited for Npgsql's command timeout (30 s) while no event reached any client,
/// and the LISTEN connection waited for notifications for good, so a node that does not tick heard
/// no other node's tick again (its streams fell back to the tail's poll).
/// </summary>
public sealed class SilentConnectionLossTests
{
    [Fact]
    public async Task Events_flow_again_within_the_tickers_round_timeout_when_the_network_loses_its_session_silently()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("p");
        await using var relay = FreezingRelay.To(db.ConnectionString);
        await using var hub = await HubServer.StartAsync(relay.ConnectionString, new Dictionary<string, string?>
        {
            ["Ticker:RoundTimeout"] = "00:00:02",
        });
        await using var client = await SseTestClient.ConnectAsync(hub.BaseAddress, "?project=p");
        await db.Writer.SessionAsync("p", 1);
        var first = await client.ReadEventAsync();

        Assert.True(relay.Freeze() > 0);
        await db.Writer.SessionAsync("p", 2); // straight to the database, not through the relay
        var lost = Stopwatch.StartNew();
        // The round timeout (2 s), Npgsql's cancellation wait (2 s), a new session; before, 30 s and more.
        var second = await client.ReadEventAsync(TimeSpan.FromSeconds(10));
        Assert.True(lost.Elapsed < TimeSpan.FromSeconds(10), $"delivered after {lost.Elapsed}");
        await db.Writer.SessionAsync("p", 3);
        var third = await client.ReadEventAsync();

        // The round that was lost may have made the tick it never heard of: read once, in order.
        Assert.Equal(["p-1", "p-2", "p-3"], new[] { first, second, third }.Select(f => f.Payload.GetProperty("id").GetString()));
        Assert.Equal(3, new[] { first.Id, second.Id, third.Id }.Distinct().Count());

        // And it stops: the reads that were on lost sessions then (the tail's poll, the live state's
        // upkeep, which has no timeout) end at their cancellation. Before, the upkeep's never did,
        // and the stop waited out the host's 30 s.
        await client.DisposeAsync();
        var stop = Stopwatch.StartNew();
        await hub.DisposeAsync();
        Assert.True(stop.Elapsed < TimeSpan.FromSeconds(10), $"stopped after {stop.Elapsed}");
    }

    [Fact]
    public async Task A_catch_up_after_the_ticker_found_its_session_lost_reads_on_new_sessions_at_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("p");
        await using var relay = FreezingRelay.To(db.ConnectionString);
        await using var hub = await HubServer.StartAsync(relay.ConnectionString, new Dictionary<string, string?>
        {
            ["Ticker:RoundTimeout"] = "00:00:02",
            ["Stream:RecentEventsWindowSize"] = "0", // catch-ups read the log, through the catch-up pool
        });
        await using var live = await SseTestClient.ConnectAsync(hub.BaseAddress, "?project=p");
        await db.Writer.SessionAsync("p", 1);
        await live.ReadEventAsync();
        await using (var before = await SseTestClient.ConnectAsync(hub.BaseAddress, "?project=p&after=0"))
            await before.ReadEventAsync(); // the catch-up pool keeps its session (KeptSessionsTests)

        Assert.True(relay.Freeze() > 0);
        await db.Writer.SessionAsync("p", 2);
        // The ticker has given its lost session up (4.1 s here; the first test bounds it). Only a
        // bound: once under CI's load this took more than 10 s (a cause not found yet).
        await live.ReadEventAsync(TimeSpan.FromSeconds(30));

        // Its pools' idle sessions went with it (PrimaryPools): the catch-up's reads run on new ones.
        // Before, only the tail's pool was cleared, and the catch-up read its kept session until
        // Npgsql's command timeout (30 s) before its retry.
        var read = Stopwatch.StartNew();
        await using var after = await SseTestClient.ConnectAsync(hub.BaseAddress, "?project=p&after=0");
        var events = await after.ReadEventsAsync(2, TimeSpan.FromSeconds(10));
        Assert.Equal(["p-1", "p-2"], events.Select(f => f.Payload.GetProperty("id").GetString()));
        Assert.True(read.Elapsed < TimeSpan.FromSeconds(5), $"caught up after {read.Elapsed}");
    }

    [Fact]
    public async Task A_node_that_does_not_tick_hears_the_ticks_again_when_the_network_loses_its_LISTEN_connection_silently()
    {
        // The listener's idle check (5 s quiet, 5 s for its round trip), Npgsql's cancellation wait
        // (2 s), a new LISTEN connection; the tail then reads the tick on a new session (the pool's
        // idle ones were dropped with the lost connection). Before: never, short of the poll.
        await FollowerDeliversAfterTheLossAsync(new Dictionary<string, string?>
        {
            ["Ticker:Enabled"] = "false",
            ["Stream:PollInterval"] = "00:05:00", // no poll stands in for the wake-up within the test
        }, within: TimeSpan.FromSeconds(25));
    }

    [Fact]
    public async Task A_node_that_does_not_tick_delivers_again_within_the_tail_reads_timeout_when_the_network_loses_its_sessions_silently()
    {
        // With the tests' poll (every 0.5 s) the tail's next read after the loss is on a lost
        // session: it gives that up after the tail pool's command timeout (10 s) and Npgsql's
        // cancellation wait (2 s), and reads again on a new one. Before: 30 s and more.
        await FollowerDeliversAfterTheLossAsync(ObservedReader.FollowerSettings, within: TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// A node that does not tick, its sessions through the relay, streams an event; the relay loses
    /// them; the next event, written while they are lost, reaches its client <paramref name="within"/>.
    /// </summary>
    private static async Task FollowerDeliversAfterTheLossAsync(Dictionary<string, string?> followerSettings, TimeSpan within)
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("p");
        await using var ticking = await HubServer.StartAsync(db.ConnectionString);
        await using var relay = FreezingRelay.To(db.ConnectionString);
        await using var follower = await HubServer.StartAsync(relay.ConnectionString, followerSettings);
        await using var client = await SseTestClient.ConnectAsync(follower.BaseAddress, "?project=p");
        await db.Writer.SessionAsync("p", 1);
        await client.ReadEventAsync();

        Assert.True(relay.Freeze() > 0);
        await db.Writer.SessionAsync("p", 2);

        var second = await client.ReadEventAsync(within);
        Assert.Equal("p-2", second.Payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_cancelled_read_on_a_pooled_session_the_network_lost_silently_returns_within_the_cancellation_wait()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var relay = FreezingRelay.To(db.ConnectionString);
        await using var source = EventHub.Storage.HubDataSources.Create(relay.ConnectionString, "silent-loss-test");
        await using (var used = await source.OpenConnectionAsync())
            await new Npgsql.NpgsqlCommand("SELECT 1", used).ExecuteScalarAsync(); // back to the pool, as the hub's reads leave it

        Assert.True(relay.Freeze() > 0);
        await using var connection = await source.OpenConnectionAsync(); // the same session: Npgsql does not check it
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var read = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new Npgsql.NpgsqlCommand("SELECT 1", connection).ExecuteScalarAsync(cancel.Token));

        // The cancel, then Npgsql's cancellation wait (2 s). Before (the pool's reset pending ahead
        // of the query): the command timeout, 30 s, and for a statement without one, never.
        Assert.True(read.Elapsed < TimeSpan.FromSeconds(6), $"returned after {read.Elapsed}");
    }
}
