using System.Diagnostics;
using System.Net;
using EventHub.Log;
using EventHub.Streaming.Internal;
using EventHub.Tests.Infrastructure;
using EventHub.Tests.Operations;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Tests.Resilience;

/// <summary>
/// <c>/readyz</c> on the ticking node while events flow. Its tail gets every tick from the ticker
/// (the hand-off) and reads the log only when a poll interval passes without an announcement, so
/// under a steady flow it does not read at all; readiness must not take that for a tail that
/// stopped (a load balancer would take the busiest hub out of rotation).
/// </summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task The_ticking_hub_stays_ready_while_its_ticks_are_handed_over_for_longer_than_MaxTailLag()
    {
        await using var db = await TestDatabase.CreateAsync();
        CountingReader? reader = null;
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            // Well under the lag sampler's 2 s: a check more than this after a sample that found
            // rows waiting (before the tail published them) used to read the sample's age as a
            // stalled tail and answer 503 (EventHubMetrics.RowsWaitingFor); at 2 s it did so once in CI.
            ["Health:MaxTailLag"] = "00:00:00.500",
            ["Stream:PollInterval"] = "00:00:00.500",
        }, services: s => s.WrapTailReader(inner => reader = new CountingReader(inner)));
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var tail = hub.Services.GetRequiredService<ChangeLogTail>();
        await tail.Ready.WithTimeout();
        await using var client = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");
        await db.Writer.ProjectAsync("ao");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WithTimeout()).StatusCode);

        // An event every ~50 ms for three times MaxTailLag: a tick (and its announcement) far more
        // often than the poll interval. Each is awaited at a client before the next is written.
        var statuses = new List<HttpStatusCode>();
        var readsBefore = reader!.Reads;
        var run = Stopwatch.StartNew();
        for (var i = 1; run.Elapsed < TimeSpan.FromSeconds(6); i++)
        {
            var written = Stopwatch.StartNew();
            await db.Writer.SessionAsync("ao", i);
            Assert.Equal($"ao-{i}", (await client.ReadEventAsync()).Payload.GetProperty("id").GetString());
            statuses.Add((await http.GetAsync("/readyz").WithTimeout()).StatusCode);
            var pace = TimeSpan.FromMilliseconds(50) - written.Elapsed; // the writers' pace, not a wait for anything
            if (pace > TimeSpan.Zero) await Task.Delay(pace);
        }

        Assert.True(statuses.Count >= 20, $"only {statuses.Count} events in 6 s");
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        // The flow was served by the hand-off (what this test is about), not by the tail's reads.
        Assert.True(reader.Reads - readsBefore < statuses.Count / 2,
            $"the tail read the log {reader.Reads - readsBefore} times for {statuses.Count} ticks: not the hand-off's case");
    }

    [Fact]
    public async Task The_hub_is_ready_once_its_tail_is_ready_before_the_tail_reads_again()
    {
        // The tail's start-up reads the head tick and loads the window, then becomes ready (streams
        // open, hand-offs publish); its first read after that is held here. A hub that counted only
        // that read answered 503 to a client that already had its events (DatabaseOutageTests saw it
        // once on a loaded machine).
        await using var db = await TestDatabase.CreateAsync();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var hub = await HubServer.StartAsync(db.ConnectionString, services: s =>
            s.WrapTailReader(inner => new FirstReadHeld(inner, held.Task)));
        try
        {
            await hub.Services.GetRequiredService<ChangeLogTail>().Ready.WithTimeout();
            using var http = new HttpClient { BaseAddress = hub.BaseAddress };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WithTimeout()).StatusCode);
        }
        finally { held.TrySetResult(); }
    }

    [Fact]
    public async Task A_hub_whose_ticker_fails_every_round_is_not_ready_and_is_ready_again_once_it_ticks()
    {
        // The tail's reads go on succeeding while no tick is made (they find none), so the tail's
        // check alone kept this hub ready while it delivered nothing.
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Health:MaxTailLag"] = "00:00:01",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await using var client = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WithTimeout()).StatusCode);

        // Every tick fails from here (a look that finds nothing to tick inserts no tick row, so the
        // ticker fails once an event waits for its tick).
        await db.Writer.ExecuteAsync("""
            CREATE FUNCTION test_refuse_tick() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no tick (test)'; END $$;
            CREATE TRIGGER test_refuse_tick BEFORE INSERT ON eventhub_tick FOR EACH ROW EXECUTE FUNCTION test_refuse_tick();
            """);
        await db.Writer.SessionAsync("ao", 1);
        await TaskTimeouts.UntilAsync(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(20), "the hub reports not ready while its ticker fails");
        Assert.True(hub.Services.GetRequiredService<Ticker>().FailingFor > TimeSpan.FromSeconds(1));

        await db.Writer.ExecuteAsync("DROP TRIGGER test_refuse_tick ON eventhub_tick");
        Assert.Equal("ao-1", (await client.ReadEventAsync()).Payload.GetProperty("id").GetString());
        await TaskTimeouts.UntilAsync(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20), "the hub is ready again once its ticker ticks");
        Assert.Null(hub.Services.GetRequiredService<Ticker>().FailingFor);
    }

    [Fact]
    public async Task A_node_is_not_ready_while_committed_rows_wait_because_no_node_ticks_and_ready_again_once_one_does()
    {
        // Its tail reads fine (it finds no new tick) and its own ticker is off, not failing: both of
        // those checks stayed green while nothing was delivered.
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Ticker:Enabled"] = "false",
            ["Health:MaxTailLag"] = "00:00:01",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await using var client = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WithTimeout()).StatusCode);

        await db.Writer.SessionAsync("ao", 1);
        await TaskTimeouts.UntilAsync(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(20), "the node stays ready while the committed row waits for a tick no node makes");

        // A ticking node: the row is ticked, this node publishes it, and it is ready again.
        await using var ticking = await HubServer.StartAsync(db.ConnectionString);
        Assert.Equal("ao-1", (await client.ReadEventAsync()).Payload.GetProperty("id").GetString());
        await TaskTimeouts.UntilAsync(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20), "the node is ready again once a node ticks");
    }
}
