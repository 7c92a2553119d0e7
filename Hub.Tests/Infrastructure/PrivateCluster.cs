using EventHub.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of one test's own, from the local binaries, in a temporary directory on a
/// free port: for tests that stop, crash or delay their database (the shared cluster serves the
/// other tests). Created started; disposing stops it and deletes its directory.
/// </summary>
public sealed class PrivateCluster : IAsyncDisposable
{
    private readonly string _directory;

    private PrivateCluster(string directory, EmbeddedPostgres postgres)
    {
        _directory = directory;
        Postgres = postgres;
    }

    public EmbeddedPostgres Postgres { get; }
    public string ConnectionString => Postgres.ConnectionString;

    /// <param name="name">Names the directory (<c>eventhub-{name}-…</c>), for a test's leftovers.</param>
    public static async Task<PrivateCluster> CreateAsync(string name)
    {
        if (PostgresBinaries.FindBinDirectory() is null)
            throw new InvalidOperationException("This test needs the local PostgreSQL binaries (apt-get install -y postgresql).");
        var directory = Path.Combine(Path.GetTempPath(), $"eventhub-{name}-" + Guid.NewGuid().ToString("N")[..8]);
        var postgres = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = directory, Port = LoopbackPorts.Free() },
            NullLogger.Instance);
        var cluster = new PrivateCluster(directory, postgres);
        try
        {
            await postgres.StartAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    public Task StartAsync() => Postgres.StartAsync();
    public Task StopAsync() => Postgres.StopAsync();
    public Task StopImmediatelyAsync() => Postgres.StopImmediatelyAsync();

    public async ValueTask DisposeAsync()
    {
        await Postgres.StopAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
