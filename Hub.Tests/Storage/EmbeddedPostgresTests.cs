using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventHub.Tests.Storage;

/// <summary>The zero-set-up mode: no connection string, so the hub runs its own cluster.</summary>
public sealed class EmbeddedPostgresTests
{
    [Fact]
    public async Task Without_a_connection_string_the_hub_starts_a_private_cluster_keeps_its_data_and_stops_it()
    {
        if (PostgresBinaries.FindBinDirectory() is null)
            throw new InvalidOperationException("This test needs the local PostgreSQL binaries (apt-get install -y postgresql).");
        var directory = Path.Combine(Path.GetTempPath(), "eventhub-embedded-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string firstOffset;
            await using (var app = await StartAsync(directory))
            {
                await using var sse = await SseTestClient.ConnectAsync(Address(app), "after=0");
                var firstEvent = await sse.ReadEventAsync(TimeSpan.FromSeconds(30)); // demo activity
                firstOffset = firstEvent.Id!;
                await app.StopAsync();
            }
            Assert.False(File.Exists(Path.Combine(directory, "pgdata", "postmaster.pid")), "the cluster is still running");

            // A restart uses the same data: the old offset is still an offset of this log.
            await using (var app = await StartAsync(directory, demo: false))
            {
                await using var sse = await SseTestClient.ConnectAsync(Address(app), "after=0");
                Assert.Equal(firstOffset, (await sse.ReadEventAsync()).Id);
                await app.StopAsync();
            }
        }
        finally
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    private static async Task<WebApplication> StartAsync(string directory, bool demo = true)
    {
        var app = await EventHubApp.BuildAsync(demo ? ["--demo"] : [], b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Urls"] = "http://127.0.0.1:0",
                ["EmbeddedPostgres:Directory"] = directory,
                ["Demo:Interval"] = "00:00:00.050",
            });
            b.Logging.ClearProviders();
        });
        await app.StartAsync().WithTimeout(TimeSpan.FromSeconds(60));
        return app;
    }
}
