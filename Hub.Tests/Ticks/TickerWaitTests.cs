using System.Diagnostics;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using EventHub.Tests.Operations;

namespace EventHub.Tests.Ticks;

/// <summary>
/// While events flow, the leader's looks for a commit run inside the database (Ticker:WaitInDatabase,
/// migration 0012): a round trip per tick or per wait, not one per Ticker:Interval, and a commit
/// during a wait is ticked at the next look, not when the wait ends.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class TickerWaitTests
{
    [Theory]
    [InlineData("0")] // no back-off (with IdleAfter a minute): the looks stay 2 ms apart
    [InlineData("0.05")] // the looks' pause grows with the quiet, and they still run in the database
    public async Task Between_events_the_leader_makes_a_round_trip_per_wait_not_per_look(string quietShare)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await StartLeaderAsync(db,
            ("Ticker:Interval", "00:00:00.002"), ("Ticker:WaitInDatabase", "00:00:00.200"), ("Ticker:IdleAfter", "00:01:00"),
            ("Ticker:QuietShare", quietShare));
        var ticker = hub.Get<Ticker>();
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        await db.Writer.SessionAsync("ao", 1); // events flow: the pacing is at Ticker:Interval
        await sse.ReadEventAsync();

        var before = ticker.Rounds;
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(1)); // a window to count in, not a synchronisation
        var rounds = ticker.Rounds - before;
        // A round trip per look would be ~500 in a second (2 ms apart); waits of 200 ms make ~5.
        Assert.True(rounds <= 25, $"the leader made {rounds} round trips in {window.Elapsed.TotalSeconds:F1} s with nothing to tick");

        await db.Writer.SessionAsync("ao", 2);
        Assert.Equal("ao-2", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_commit_during_a_wait_in_the_database_is_ticked_at_the_next_look_not_when_the_wait_ends()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await StartLeaderAsync(db, ("Ticker:Interval", "00:00:00.002"), ("Ticker:Lease", "00:00:20"),
            ("Ticker:WaitInDatabase", "00:00:05"), ("Ticker:IdleAfter", "00:01:00"), ("Ticker:QuietShare", "0"));
        var ticker = hub.Get<Ticker>();
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        await db.Writer.SessionAsync("ao", 1);
        await sse.ReadEventAsync();

        // A round that begins now has nothing to tick: it waits in the database (up to 5 s).
        var rounds = ticker.Rounds;
        await TaskTimeouts.UntilAsync(() => ticker.Rounds > rounds, because: "no new round began");
        var committed = Stopwatch.StartNew();
        await db.Writer.SessionAsync("ao", 2);
        Assert.Equal("ao-2", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        Assert.True(committed.Elapsed < TimeSpan.FromSeconds(2.5),
            $"the commit reached the stream {committed.ElapsedMilliseconds} ms later: the round waited out its 5 s");
    }

    [Fact]
    public async Task An_open_from_now_waits_for_the_round_in_flight_and_then_for_one_look_not_for_a_second_wait()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await StartLeaderAsync(db, ("Ticker:Interval", "00:00:00.002"), ("Ticker:Lease", "00:00:20"),
            ("Ticker:WaitInDatabase", "00:00:02"), ("Ticker:IdleAfter", "00:01:00"), ("Ticker:QuietShare", "0"));
        var ticker = hub.Get<Ticker>();
        await using (var first = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0"))
        {
            await db.Writer.SessionAsync("ao", 1);
            await first.ReadEventAsync();
        }

        var rounds = ticker.Rounds;
        await TaskTimeouts.UntilAsync(() => ticker.Rounds > rounds, because: "no new round began");
        var opening = Stopwatch.StartNew();
        await using var fromNow = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao"); // from now: NextRoundAsync
        // The round in flight waits up to 2 s; the one that answers must look once, not wait 2 s more.
        Assert.True(opening.Elapsed < TimeSpan.FromSeconds(3.5),
            $"the open from now took {opening.ElapsedMilliseconds} ms with rounds waiting 2 s in the database");
        await db.Writer.SessionAsync("ao", 2);
        Assert.Equal("ao-2", (await fromNow.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }

    /// <summary>A hub with these ticker settings, once it holds the ticker's lease.</summary>
    private static async Task<HubServer> StartLeaderAsync(TestDatabase db, params (string Key, string Value)[] settings)
    {
        var hub = await HubServer.StartAsync(db.ConnectionString, settings.ToDictionary(s => s.Key, s => (string?)s.Value));
        try
        {
            await TaskTimeouts.UntilAsync(() => hub.Get<Ticker>().IsLeader, because: "the only hub never took the ticker's lease");
            return hub;
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }
    }
}
