using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventHub.Tests.Ticks;

/// <summary>
/// One ticker at a time across nodes, and a take-over when its node dies (issue 13, point 4); the
/// same event has the same offset on every node (point 3).
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class TickerTakeoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task When_the_ticking_hub_process_is_killed_another_node_takes_over_within_two_seconds_and_its_clients_miss_nothing()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var leader = await HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort());
        await TaskTimeouts.UntilAsync(() => LeaseHeldAsync(db).GetAwaiter().GetResult(), TimeSpan.FromSeconds(60),
            "the hub process did not take the ticker's lease");
        await using var follower = await HubServer.StartAsync(db.ConnectionString);
        Assert.False(follower.Get<Ticker>().IsLeader);
        await using var sse = await SseTestClient.ConnectAsync(follower.BaseAddress, "project=ao");

        var clock = Stopwatch.StartNew();
        var committedAt = new ConcurrentDictionary<string, TimeSpan>();
        var received = new List<(string Id, TimeSpan At)>();
        TimeSpan? killedAt = null;
        var n = 0;
        var reader = Task.Run(async () =>
        {
            while (true)
            {
                var frame = await sse.ReadEventAsync(TimeSpan.FromSeconds(60));
                lock (received) received.Add((frame.Payload.GetProperty("id").GetString()!, clock.Elapsed));
            }
        });
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (killedAt is null && clock.Elapsed > TimeSpan.FromSeconds(1.5))
            {
                killedAt = clock.Elapsed;
                await leader.KillAsync(); // SIGKILL: no graceful release of the lease
            }
            var id = await db.Writer.SessionAsync("ao", ++n);
            committedAt[id] = clock.Elapsed;
            await Task.Delay(20);
        }
        await TaskTimeouts.UntilAsync(() => { lock (received) return received.Count >= n; }, TimeSpan.FromSeconds(30),
            "not every event arrived after the take-over");
        Assert.True(follower.Get<Ticker>().IsLeader);

        List<(string Id, TimeSpan At)> got;
        lock (received) got = received.ToList();
        Assert.Equal(Enumerable.Range(1, n).Select(i => $"ao-{i}"), got.Select(r => r.Id)); // every event once, in order
        var worst = committedAt.Where(c => c.Value > killedAt!.Value)
            .Max(c => got.Single(r => r.Id == c.Key).At - c.Value);
        output.WriteLine($"{n} events; the longest wait of an event committed after the kill: {worst.TotalMilliseconds:F0} ms");
        Assert.True(worst < TimeSpan.FromSeconds(2), $"delivery resumed after {worst.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Two_nodes_give_every_event_the_same_offset_and_a_client_resumes_on_the_other_node_exactly()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var a = await HubServer.StartAsync(db.ConnectionString);
        await using var b = await HubServer.StartAsync(db.ConnectionString);
        // One ticker: the other node follows (a start does not wait for the lease).
        await TaskTimeouts.UntilAsync(() => a.Get<Ticker>().IsLeader || b.Get<Ticker>().IsLeader);
        Assert.NotEqual(a.Get<Ticker>().IsLeader, b.Get<Ticker>().IsLeader);
        await using var onA = await SseTestClient.ConnectAsync(a.BaseAddress, "project=ao");
        await using var onB = await SseTestClient.ConnectAsync(b.BaseAddress, "project=ao");

        // Concurrent writers, so ticks hold several transactions and commit order is not xid order.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++) await db.Writer.SessionAsync("ao", w * 100 + i);
        })));
        var fromA = await onA.ReadEventsAsync(100);
        var fromB = await onB.ReadEventsAsync(100);
        Assert.Equal(fromA.Select(f => (f.Id, f.Payload.GetProperty("id").GetString())), fromB.Select(f => (f.Id, f.Payload.GetProperty("id").GetString())));
        Assert.All(fromA, f => Assert.True(f.Id!.Length <= 40, f.Id));

        // A client of A that stopped after 37 events resumes on B with the next 63.
        await using var resumed = await SseTestClient.ConnectAsync(b.BaseAddress, "project=ao", lastEventId: fromA[36].Id);
        Assert.Equal(fromA.Skip(37).Select(f => f.Id), (await resumed.ReadEventsAsync(63)).Select(f => f.Id));
    }

    private static async Task<bool> LeaseHeldAsync(TestDatabase db)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<bool>("SELECT owner IS NOT NULL AND expires_at > now() FROM eventhub_ticker");
    }

    [Fact]
    public async Task A_ticking_hub_that_stops_says_it_released_the_lease_not_that_another_node_ticks()
    {
        await using var db = await TestDatabase.CreateAsync();
        var logs = new LogSink();
        var hub = await HubServer.StartAsync(db.ConnectionString, services: logs.AddTo);
        try
        {
            await TaskTimeouts.UntilAsync(() => hub.Get<Ticker>().IsLeader, because: "the hub did not take the ticker's lease");
        }
        finally
        {
            await hub.DisposeAsync(); // a graceful stop
        }

        var ticker = logs.Entries.Where(e => e.Category == typeof(Ticker).FullName).ToList();
        Assert.Contains(ticker, e => e.EventId.Id == 3105); // released the lease
        Assert.DoesNotContain(ticker, e => e.EventId.Id == 3102); // "another node makes the change log's ticks"
        await using var c = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(0L, await c.ExecuteScalarAsync<long>("SELECT count(*) FROM eventhub_ticker WHERE owner IS NOT NULL AND expires_at > clock_timestamp()"));
    }
}
