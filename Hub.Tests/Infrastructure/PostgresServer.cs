using EventHub.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Testcontainers.PostgreSql;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// The one PostgreSQL server of a test run, shared by every test class (each gets its own
/// database). Found in this order: a Testcontainers container when a Docker engine answers;
/// else a private cluster from the local binaries (what CI uses); else the connection string
/// in <c>EVENTHUB_TEST_CONNECTION</c>.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);

    private readonly Func<Task>? _stop;

    private PostgresServer(string adminConnectionString, string kind, EmbeddedPostgres? embedded, Func<Task>? stop)
    {
        AdminConnectionString = adminConnectionString;
        Kind = kind;
        Embedded = embedded;
        _stop = stop;
    }

    /// <summary>Connection string to the <c>postgres</c> database, as a superuser.</summary>
    public string AdminConnectionString { get; }

    /// <summary>"testcontainers", "local-binaries" or "environment".</summary>
    public string Kind { get; }

    /// <summary>The local-binaries cluster, when that is what runs (tests that stop and start the database need it).</summary>
    public EmbeddedPostgres? Embedded { get; }

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    private static async Task<PostgresServer> StartAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("EVENTHUB_TEST_CONNECTION");

        try
        {
            var container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await container.StartAsync().WaitAsync(TimeSpan.FromMinutes(3));
            var server = new PostgresServer(
                new NpgsqlConnectionStringBuilder(container.GetConnectionString()) { Database = "postgres" }.ConnectionString,
                "testcontainers", null, () => container.DisposeAsync().AsTask());
            RegisterStop(server);
            return server;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // No Docker engine (DockerUnavailableException within a second): the usual case here.
        }

        if (PostgresBinaries.FindBinDirectory() is not null)
        {
            SweepAbandonedClusters();
            var directory = Path.Combine(Path.GetTempPath(), $"{ClusterPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
            var embedded = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory }, NullLogger.Instance);
            await embedded.StartAsync();
            var server = new PostgresServer(embedded.AdminConnectionString, "local-binaries", embedded, async () =>
            {
                await embedded.StopAsync();
                try { Directory.Delete(directory, recursive: true); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* swept by the next run */ }
            });
            RegisterStop(server);
            return server;
        }

        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return new PostgresServer(
                new NpgsqlConnectionStringBuilder(fromEnvironment) { Database = "postgres" }.ConnectionString,
                "environment", null, null);

        throw new InvalidOperationException(
            "No PostgreSQL for the tests: no Docker engine answered, no local server binaries were found " +
            "(apt-get install -y postgresql), and EVENTHUB_TEST_CONNECTION is not set.");
    }

    private const string ClusterPrefix = "eventhub-tests-";

    /// <summary>
    /// Deletes the clusters of earlier test runs whose test process and postmaster are both gone.
    /// The exit handler deletes a run's cluster, but a test host that is killed (or stopped by the
    /// runner before its handlers finish) leaves it behind: on a developer's machine they piled up
    /// to 79 GB in /tmp, some of 3 GB each, until the disk was full.
    /// </summary>
    private static void SweepAbandonedClusters()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), ClusterPrefix + "*"))
        {
            var parts = Path.GetFileName(directory)[ClusterPrefix.Length..].Split('-');
            if (!int.TryParse(parts[0], out var owner) || owner == Environment.ProcessId || IsRunning(owner)) continue;
            var postmasterPid = Path.Combine(directory, "pgdata", "postmaster.pid");
            if (File.Exists(postmasterPid) && int.TryParse(File.ReadLines(postmasterPid).FirstOrDefault(), out var postmaster)
                && IsRunning(postmaster)) continue;
            try { Directory.Delete(directory, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* someone else's; leave it */ }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void RegisterStop(PostgresServer server) =>
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server._stop?.Invoke().GetAwaiter().GetResult();

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    /// <param name="options">Appended to CREATE DATABASE (for example a locale provider).</param>
    public async Task<string> CreateDatabaseAsync(string nameHint, string? options = null)
    {
        var name = ("t_" + new string(nameHint.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(30).ToArray())
                    + "_" + Guid.NewGuid().ToString("N")[..8]);
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name} {options}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }
}
