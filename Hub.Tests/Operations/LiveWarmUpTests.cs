using System.Net;
using System.Net.Sockets;
using Dapper;
using EventHub.Operations;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Tests.Operations;

/// <summary>
/// The live warm-up (<see cref="LiveWarmUp"/>): before the hub reports ready, synthetic events run
/// through the live delivery path to SSE streams of a private loopback server, and none of it is
/// seen outside the warm-up. Whether it shortens a new hub's first seconds of load is the bench's
/// question (bench/results/2026-12-07-live-warm-up.md), not a test's.
/// </summary>
// Alone: the metrics test reads the hub's /metrics, and OpenTelemetry's meter listener is
// process-wide (another test's hub's requests would count there).
[Collection(AloneCollection.Name)]
public sealed class LiveWarmUpTests
{
    [Fact]
    public async Task Every_stream_receives_every_event_published_during_the_run()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString); // the suite's hubs: no warm-up of their own

        var result = await hub.Get<LiveWarmUp>().RunAsync(streams: 5, TimeSpan.FromMilliseconds(300), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.Events >= 4, $"only {result.Events} events were published");
        Assert.Equal(Enumerable.Repeat(result.Events, 5), result.EventsPerStream);
        Assert.True(result.Bytes > 5L * result.Events * 150, $"{result.Bytes} bytes for {result.Events} events to 5 streams");
    }

    [Fact]
    public async Task A_hub_process_started_as_operators_start_it_warms_up_and_then_reports_ready()
    {
        await using var db = await TestDatabase.CreateAsync();
        // Its own process, configured from the environment as operators and the bench do (Urls
        // among them, which the warm-up's server must not take for its own).
        await using var hub = await HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort(), new Dictionary<string, string>
        {
            ["LiveWarmUp__Duration"] = "00:00:01",
            ["Logging__LogLevel__EventHub.Operations.LiveWarmUp"] = "Debug",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        await TaskTimeouts.UntilAsync(async () => (await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the hub did not turn ready");
        // The console logger writes from a queue of its own and the test reads the output as it
        // comes: the warm-up's line can arrive a moment after the readiness that follows it.
        await TaskTimeouts.UntilAsync(() => hub.Log.Contains("Live warm-up"), TimeSpan.FromSeconds(10), "the warm-up logged nothing");
        Assert.Contains("Live warm-up: ", hub.Log); // it ran (its Debug line), and did not fail or time out
        Assert.DoesNotContain("Live warm-up failed", hub.Log);
        Assert.DoesNotContain("Live warm-up gave up", hub.Log);
    }

    [Fact]
    public async Task The_hub_reports_ready_only_once_its_live_warm_up_has_ended_and_its_server_is_gone()
    {
        await using var db = await TestDatabase.CreateAsync();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["LiveWarmUp:Duration"] = "00:00:00.300",
            ["LiveWarmUp:Streams"] = "3",
        }, services: s => WithSeam(s, address => { listening.TrySetResult(address); return release.Task; }));
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(address.Host)), $"the warm-up's server listens on {address}");

        // The suite's hubs run no other start-up work: the warm-up holds readiness alone.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/readyz").WithTimeout()).StatusCode);

        release.SetResult();
        await hub.Get<LiveWarmUp>().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WithTimeout()).StatusCode);
        await AssertStoppedAsync(address); // the private server: nothing listens on its port any more
    }

    [Fact]
    public async Task A_warm_up_that_does_not_end_gives_up_at_its_timeout_and_the_hub_turns_ready()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["LiveWarmUp:Duration"] = "00:00:00.300",
            ["LiveWarmUp:Timeout"] = "00:00:01",
        }, services: s => WithSeam(s, _ => new TaskCompletionSource().Task)); // never goes on
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        await hub.Get<LiveWarmUp>().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WithTimeout()).StatusCode);
    }

    [Fact]
    public async Task A_hub_stopped_in_the_middle_of_its_warm_up_stops_at_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["LiveWarmUp:Duration"] = "00:01:00", // far longer than the stop may take
        }, services: s => WithSeam(s, address => { listening.TrySetResult(address); return Task.CompletedTask; }));
        await using var _ = hub;
        var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // A stream of the private server's own (it serves nothing else): its first event says the publishing has begun.
        await using (var watcher = await SseTestClient.ConnectAsync(address))
            Assert.Equal(LiveWarmUp.Project, (await watcher.ReadEventAsync(TimeSpan.FromSeconds(30))).ProjectId);

        // The host waits for its background services (30 s by default): the warm-up's publishing,
        // streams and server must end with the stop, as the hub's own streams do (ShutdownTests).
        await hub.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        await AssertStoppedAsync(address);
    }

    [Fact]
    public async Task No_client_of_the_hub_sees_the_warm_up_and_its_metrics_count_none_of_it()
    {
        await using var db = await TestDatabase.CreateAsync();
        var management = LoopbackPorts.Free();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["LiveWarmUp:Duration"] = "00:00:00.500",
            ["LiveWarmUp:Streams"] = "4",
            ["Management:Urls"] = $"http://127.0.0.1:{management}",
        }, services: s => WithSeam(s, _ => { listening.TrySetResult(); return release.Task; }));
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // A client of every project, streaming from now while the warm-up publishes.
        await using var client = await SseTestClient.ConnectAsync(hub.BaseAddress);
        release.SetResult();
        await hub.Get<LiveWarmUp>().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));

        await db.Writer.ProjectAsync("p1");
        var session = await db.Writer.SessionAsync("p1", 1);
        var first = await client.ReadEventAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("p1", first.ProjectId); // the warm-up's events, before it, went to its own fan-out only
        Assert.Equal("session_created", first.Type);
        Assert.Equal(session, first.Payload.GetProperty("id").GetString());

        await using (var check = await db.DataSource.OpenConnectionAsync())
            Assert.Equal(0L, await check.ExecuteScalarAsync<long>("SELECT count(*) FROM change_log WHERE project_id = @p", new { p = LiveWarmUp.Project }));

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{management}/metrics")).WithTimeout();
        // Delivered: the one event above to the one client, none of the warm-up's thousands.
        Assert.Matches(@"(?m)^eventhub_events_delivered_total\{[^}]*transport=""sse""[^}]*\} 1$", metrics);
        // Requests and connections: the hub's own, on its ports only; none on the warm-up's server's.
        var ports = new[] { hub.BaseAddress.Port, management };
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(metrics, @"server_port=""(\d+)"""))
            Assert.Contains(int.Parse(m.Groups[1].Value), ports);
        Assert.DoesNotContain("EventHub.WarmUp", metrics);
        Assert.DoesNotContain(LiveWarmUp.Project, metrics);
    }

    /// <summary>The hub's warm-up with <paramref name="onServerStarted"/> as its seam (<see cref="LiveWarmUp.OnServerStarted"/>).</summary>
    private static void WithSeam(IServiceCollection services, Func<Uri, Task> onServerStarted) =>
        services.AddSingleton(sp =>
        {
            var warmUp = ActivatorUtilities.CreateInstance<LiveWarmUp>(sp);
            warmUp.OnServerStarted = onServerStarted;
            return warmUp;
        });

    /// <summary>Asserts that nothing listens at <paramref name="address"/> (a connection is refused).</summary>
    private static async Task AssertStoppedAsync(Uri address)
    {
        using var probe = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(address.Host, address.Port).WithTimeout());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }
}
