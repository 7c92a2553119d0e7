using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

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

    [Fact]
    public async Task Two_hubs_on_one_directory_share_its_cluster_and_the_last_to_stop_stops_it()
    {
        if (PostgresBinaries.FindBinDirectory() is null)
            throw new InvalidOperationException("This test needs the local PostgreSQL binaries (apt-get install -y postgresql).");
        var directory = Path.Combine(Path.GetTempPath(), "eventhub-embedded-" + Guid.NewGuid().ToString("N")[..8]);
        var pid = Path.Combine(directory, "pgdata", "postmaster.pid");
        try
        {
            var first = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory }, NullLogger.Instance);
            var second = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory }, NullLogger.Instance);
            try
            {
                await first.StartAsync().WithTimeout(TimeSpan.FromSeconds(60));
                await second.StartAsync().WithTimeout(TimeSpan.FromSeconds(60)); // reuses the running cluster
                Assert.Equal(first.Port, second.Port);

                // The first stops while the second still uses the cluster: it stays up.
                await first.StopAsync().WithTimeout(TimeSpan.FromSeconds(60));
                Assert.True(File.Exists(pid), "the first hub to stop stopped the cluster under the second");
                await using (var c = new NpgsqlConnection(second.ConnectionString))
                {
                    await c.OpenAsync().WithTimeout();
                    Assert.Equal(1, await c.ExecuteScalarAsync<int>("SELECT 1"));
                }

                // A hub started again meanwhile finds it on the same port; then both stop, the last one stops it.
                await first.StartAsync().WithTimeout(TimeSpan.FromSeconds(60));
                Assert.Equal(second.Port, first.Port);
                await second.StopAsync().WithTimeout(TimeSpan.FromSeconds(60));
                Assert.True(File.Exists(pid));
                await first.StopAsync().WithTimeout(TimeSpan.FromSeconds(60));
                Assert.False(File.Exists(pid), "the last hub to stop left the cluster running");
            }
            finally
            {
                await first.DisposeAsync();
                await second.DisposeAsync();
            }
        }
        finally
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Two_hubs_starting_at_once_on_a_new_directory_create_one_cluster_and_share_it()
    {
        if (PostgresBinaries.FindBinDirectory() is null)
            throw new InvalidOperationException("This test needs the local PostgreSQL binaries (apt-get install -y postgresql).");
        var directory = Path.Combine(Path.GetTempPath(), "eventhub-embedded-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using var first = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory }, NullLogger.Instance);
            await using var second = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory }, NullLogger.Instance);
            // Both would run initdb (or pg_ctl start) on the same directory: one of them failed.
            await Task.WhenAll(Task.Run(() => first.StartAsync()), Task.Run(() => second.StartAsync())).WithTimeout(TimeSpan.FromSeconds(120));
            Assert.Equal(first.Port, second.Port);
            await using var c = new NpgsqlConnection(second.ConnectionString);
            await c.OpenAsync().WithTimeout();
            Assert.Equal(1, await c.ExecuteScalarAsync<int>("SELECT 1"));
        }
        finally
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task A_hub_whose_address_is_taken_says_so_in_one_line_exits_2_and_stops_the_cluster_it_started()
    {
        var directory = Path.Combine(Path.GetTempPath(), "eventhub-embedded-" + Guid.NewGuid().ToString("N")[..8]);
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, HubProcess.FreePort());
        taken.Start();
        try
        {
            var (exitCode, stdout, stderr) = await HubProcess.RunToExitAsync(
                [$"--Urls=http://127.0.0.1:{((System.Net.IPEndPoint)taken.LocalEndpoint).Port}", $"--EmbeddedPostgres:Directory={directory}"],
                TimeSpan.FromSeconds(120));

            Assert.Equal(2, exitCode);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("EventHub did not start: Failed to bind to address", line);
            Assert.Contains("another address (Urls", line);
            Assert.DoesNotContain("Unhandled exception", stdout + stderr); // the host's log may show the failed start's stack
            // Stopped at the failed start: it was left running for the next start to find.
            Assert.Contains("Stopped the private PostgreSQL", stdout);
            Assert.False(File.Exists(Path.Combine(directory, "pgdata", "postmaster.pid")), "the cluster is still running");
        }
        finally
        {
            await RemoveClusterAsync(directory);
        }
    }

    [Fact]
    public async Task A_hub_given_an_address_the_system_will_not_bind_says_so_in_one_line_exits_2_and_stops_the_cluster_it_started()
    {
        // An IPv4-mapped IPv6 address is loopback to the open-mode check, and the kernel refuses
        // to bind it (EINVAL): the hub crashed with an unhandled SocketException (exit 134).
        var directory = Path.Combine(Path.GetTempPath(), "eventhub-embedded-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (exitCode, stdout, stderr) = await HubProcess.RunToExitAsync(
                [$"--Urls=http://[::ffff:127.0.0.1]:{HubProcess.FreePort()}", $"--EmbeddedPostgres:Directory={directory}"],
                TimeSpan.FromSeconds(120));

            Assert.Equal(2, exitCode);
            var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("EventHub did not start: could not listen on a configured address", line);
            Assert.Contains("another address (Urls", line);
            Assert.DoesNotContain("Unhandled exception", stdout + stderr);
            Assert.False(File.Exists(Path.Combine(directory, "pgdata", "postmaster.pid")), "the cluster is still running");
        }
        finally
        {
            await RemoveClusterAsync(directory);
        }
    }

    /// <summary>Stops a cluster a failed test left running, then removes its directory.</summary>
    private static async Task RemoveClusterAsync(string directory)
    {
        if (File.Exists(Path.Combine(directory, "pgdata", "postmaster.pid")))
        {
            // Left running (the test failed): a user of the running cluster, the last, stops it.
            await using var last = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory }, NullLogger.Instance);
            await last.StartAsync();
        }
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
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
