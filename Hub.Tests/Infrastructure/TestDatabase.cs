using System.Runtime.CompilerServices;
using Dapper;
using EventHub.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventHub.Tests.Infrastructure;

/// <summary>A fresh database with the hub's schema, named after the test that made it.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string connectionString, NpgsqlDataSource dataSource)
    {
        ConnectionString = connectionString;
        DataSource = dataSource;
        Writer = new SourceWriter(dataSource);
    }

    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }
    /// <summary>Writes rows into the source tables, as the orchestrator would.</summary>
    public SourceWriter Writer { get; }

    public static async Task<TestDatabase> CreateAsync([CallerMemberName] string name = "", bool migrate = true)
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = await server.CreateDatabaseAsync(name);
        var dataSource = NpgsqlDataSource.Create(connectionString);
        if (migrate)
            await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        return new TestDatabase(connectionString, dataSource);
    }

    public async Task<long> ChangeLogCountAsync()
    {
        await using var c = await DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>("SELECT count(*) FROM change_log");
    }

    public async Task<string> EpochAsync()
    {
        await using var c = await DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<string>("SELECT epoch FROM eventhub_epoch") ?? "";
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
