using System.Net;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.Resilience;

/// <summary>
/// The database stops and starts again under a running hub. Uses a cluster of its own: the
/// shared one serves the other tests.
/// </summary>
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task Open_streams_survive_a_database_restart_and_receive_what_is_written_after_it()
    {
        await using var cluster = await PrivateCluster.CreateAsync("outage");
        await using var hub = await HubServer.StartAsync(cluster.ConnectionString, new Dictionary<string, string?>
        {
            ["Stream:PollInterval"] = "00:00:00.200",
            ["Health:MaxTailLag"] = "00:01:00",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        var writer = new SourceWriter(dataSource);

        await using var live = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");
        await using var fromStart = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&after=0");
        await writer.SessionAsync("ao", 1);
        Assert.Equal("ao-1", Id(await live.ReadEventAsync()));
        Assert.Equal("ao-1", Id(await fromStart.ReadEventAsync()));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WithTimeout()).StatusCode);

        await cluster.StopAsync();
        await WaitForStatusAsync(http, "/readyz", HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz").WithTimeout()).StatusCode);

        await cluster.StartAsync();
        NpgsqlConnection.ClearAllPools();
        await writer.SessionAsync("ao", 2);
        await writer.SessionAsync("ao", 3);
        Assert.Equal(["ao-2", "ao-3"], (await live.ReadEventsAsync(2, TimeSpan.FromSeconds(30))).Select(Id));
        Assert.Equal(["ao-2", "ao-3"], (await fromStart.ReadEventsAsync(2, TimeSpan.FromSeconds(30))).Select(Id));
        await WaitForStatusAsync(http, "/readyz", HttpStatusCode.OK);
    }

    private static string Id(SseFrame f) => f.Payload.GetProperty("id").GetString()!;

    private static async Task WaitForStatusAsync(HttpClient http, string path, HttpStatusCode status)
    {
        // Readiness changes when the tail's next read fails or succeeds; no event announces it.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await http.GetAsync(path, cts.Token)).StatusCode != status)
            await Task.Delay(50, cts.Token);
    }

}
