using EventHub.Storage;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Resilience;

/// <summary>
/// A hub started with its database (Compose, Kubernetes) often comes up first. It waits for a
/// database it cannot reach yet (Database:StartupWait), then starts as usual; one that never comes
/// ends the start with one error naming the server and the setting. Before, the first refused
/// connection crashed the start (an unhandled exception: an abort, exit code 134).
/// </summary>
public sealed class DatabaseStartupTests
{
    [Fact]
    public async Task A_hub_started_before_its_database_waits_for_it_and_then_streams()
    {
        await using var cluster = await PrivateCluster.CreateAsync("startup");
        await cluster.StopAsync(); // down when the hub starts
        var starting = HubServer.StartAsync(cluster.ConnectionString);
        // The database is down for the hub's first attempts: the outage is what is tested, not a synchronisation.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(starting.IsCompleted, starting.Exception?.GetBaseException().Message ?? "the hub started without its database");
        await cluster.StartAsync();

        await using var hub = await starting.WaitAsync(TimeSpan.FromSeconds(60));
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var client = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");
        await new SourceWriter(dataSource).SessionAsync("ao", 1);
        Assert.Equal("ao-1", (await client.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_database_that_does_not_come_within_Database_StartupWait_ends_the_start_with_one_error_naming_it()
    {
        var port = LoopbackPorts.Free(); // nothing listens there
        var start = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<DatabaseUnreachableException>(() => HubServer.StartAsync(
            $"Host=127.0.0.1;Port={port};Username=eventhub;Password=x;Database=eventhub",
            new Dictionary<string, string?> { ["Database:StartupWait"] = "00:00:01" }));
        Assert.True(start.Elapsed < TimeSpan.FromSeconds(20), $"gave up after {start.Elapsed}");
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("Database:StartupWait", e.Message);
        Assert.Contains("ConnectionStrings:EventHub", e.Message);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Port={port};Username=u;Password=p;Database=d", "the database at 127.0.0.1:{port} could not be reached")]
    [InlineData("{a database that does not exist}", "the database at {server} refused it (database \"no_such_database\" does not exist)")]
    [InlineData("{a wrong password}", "the database at {server} refused it (password authentication failed")]
    [InlineData("{a user that may not create tables}", "the database at {server} refused it (permission denied for schema public)")]
    public async Task The_hub_process_ends_a_start_without_its_database_with_one_line_and_exit_code_3(string connectionString, string says)
    {
        var port = LoopbackPorts.Free();
        var server = await PostgresServer.GetAsync(); // a real server for the refusals; nothing listens on the free port
        var admin = new Npgsql.NpgsqlConnectionStringBuilder(server.AdminConnectionString);
        if (connectionString == "{a user that may not create tables}")
        {
            // PostgreSQL 15 grants no one CREATE on schema public: a user that does not own the database.
            var name = "nocreate_" + Guid.NewGuid().ToString("N")[..8];
            await using var c = new Npgsql.NpgsqlConnection(server.AdminConnectionString);
            await c.OpenAsync();
            foreach (var sql in new[] { $"CREATE ROLE {name} LOGIN PASSWORD 'secret'", $"CREATE DATABASE {name}" })
                await using (var create = new Npgsql.NpgsqlCommand(sql, c)) await create.ExecuteNonQueryAsync();
            connectionString = new Npgsql.NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Database = name, Username = name, Password = "secret" }.ConnectionString;
        }
        else if (connectionString == "{a wrong password}")
            connectionString = new Npgsql.NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Password = "wrong" }.ConnectionString;
        else if (connectionString == "{a database that does not exist}")
            connectionString = new Npgsql.NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Database = "no_such_database" }.ConnectionString;
        else
            connectionString = connectionString.Replace("{port}", port.ToString());
        var (exitCode, stdout, stderr) = await HubProcess.RunToExitAsync(
            ["--urls", "http://127.0.0.1:0", $"--ConnectionStrings:EventHub={connectionString}", "--Database:StartupWait=00:00:01"],
            TimeSpan.FromSeconds(60));
        Assert.Equal(3, exitCode); // not an abort (134) with the runtime's report of an unhandled exception
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("EventHub did not start: " + says.Replace("{port}", port.ToString()).Replace("{server}", $"{admin.Host}:{admin.Port}"), line);
        // The host's log of the failed start names the exception and its message, no stack: the
        // operator's matter, not the hub's fault. Before, ~30 lines of Npgsql's and the host's frames.
        Assert.Contains("Hosting failed to start", stdout);
        Assert.DoesNotContain("   at ", stdout);
    }
}
