using System.Diagnostics;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Resilience;

/// <summary>A hub whose clients have gone stops at once, whatever it served just before.</summary>
[Collection(AloneCollection.Name)] // a bound on time: other tests' load on the 2 cores would show in it
public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_the_hub_right_after_a_burst_of_SSE_and_SignalR_streams_whose_clients_have_gone_takes_under_two_seconds()
    {
        await using var db = await TestDatabase.CreateAsync();
        await WriteTwentyThousandPaddedEventsAsync(db);
        // A shutdown timeout far beyond the bound: whatever holds the stop shows as time, not as a cut-off.
        var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["HostOptions:ShutdownTimeout"] = "00:02:00" });
        try
        {
            var sse = await Task.WhenAll(Enumerable.Range(0, 150).Select(i =>
                SseTestClient.ConnectAsync(hub.BaseAddress, i % 2 == 0 ? "after=0" : "project=ao")));
            var hubClients = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
                EventsHubClient.ConnectAsync(hub.BaseAddress, i % 2 == 0 ? WireProtocol.Json : WireProtocol.MessagePack)));
            var streams = await Task.WhenAll(hubClients.SelectMany(c => new[]
            {
                c.StreamAsync(["ao"], after: "0"), c.StreamAsync(["ao"]), c.StreamAsync(after: "0"),
            }));
            using (var http = new HttpClient { BaseAddress = hub.BaseAddress })
                await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => http.GetStringAsync("/api/v1/events/head").WithTimeout()));

            await db.Writer.SessionAsync("ao", 51);
            await Task.WhenAll(sse.Where((_, i) => i % 2 == 0).Select(s => s.ReadEventAsync()));
            await Task.WhenAll(streams.Where((_, i) => i % 3 != 1).Select(s => s.ReadAsync()));

            // Every client goes away.
            await Task.WhenAll(sse.Select(s => s.DisposeAsync().AsTask()));
            await Task.WhenAll(hubClients.Select(c => c.DisposeAsync().AsTask()));
        }
        finally
        {
            var stopping = Stopwatch.StartNew();
            await hub.DisposeAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(60));
            stopping.Stop();
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(2), $"The hub took {stopping.Elapsed.TotalSeconds:F1} s to stop.");
        }
    }

    [Fact]
    public async Task Stopping_the_hub_while_clients_that_no_longer_read_hold_parked_catch_ups_takes_under_two_seconds()
    {
        await using var db = await TestDatabase.CreateAsync();
        await WriteTwentyThousandPaddedEventsAsync(db);
        var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["HostOptions:ShutdownTimeout"] = "00:02:00" });
        // Clients alive, sockets open, reading nothing: each response parks in a flush once the
        // socket's buffers are full (a 10 MB catch-up does that).
        var http = new HttpClient { BaseAddress = hub.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var responses = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < 10; i++)
                responses.Add(await http.GetAsync("/api/v1/events?after=0", HttpCompletionOption.ResponseHeadersRead).WithTimeout());
            await using (var probe = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0"))
                await probe.ReadEventsAsync(20000, TimeSpan.FromSeconds(60)); // the hub has served a whole catch-up meanwhile
        }
        finally
        {
            var stopping = Stopwatch.StartNew();
            await hub.DisposeAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(60));
            stopping.Stop();
            foreach (var r in responses) r.Dispose();
            http.Dispose();
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(2), $"The hub took {stopping.Elapsed.TotalSeconds:F1} s to stop.");
        }
    }

    /// <summary>About 10 MB of log: a catch-up of it fills any socket's buffers.</summary>
    private static Task WriteTwentyThousandPaddedEventsAsync(TestDatabase db) => db.Writer.ExecuteAsync(
        "INSERT INTO change_log (project_id, event_type, payload) SELECT 'ao', 'session_created', jsonb_build_object('id', 'x' || i, 'pad', repeat('x', 500)) FROM generate_series(1, 20000) i");
}
