using System.Runtime.CompilerServices;
using Dapper;
using EventHub.Log;
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

    /// <param name="createOptions">Appended to CREATE DATABASE (for example another default collation).</param>
    public static async Task<TestDatabase> CreateAsync([CallerMemberName] string name = "", bool migrate = true, string? createOptions = null)
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = await server.CreateDatabaseAsync(name, createOptions);
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
        return await EpochSql.ReadAsync(c, CancellationToken.None);
    }

    /// <summary>
    /// The offset of the change_log row with this seq, computed from the database as a hub would
    /// (a crafted offset): the row's tick is the first tick whose snapshot sees its transaction.
    /// Waits for a hub's ticker to have put the row in a tick.
    /// </summary>
    public async Task<string> OffsetOfSeqAsync(long seq)
    {
        var epoch = await EpochAsync();
        await using var c = await DataSource.OpenConnectionAsync();
        long? tick = null;
        await TaskTimeouts.UntilAsync(() =>
        {
            tick = c.ExecuteScalar<long?>("""
                SELECT eventhub_tick_of(r.tx_id) FROM change_log r WHERE r.seq = @seq
                """, new { seq });
            return tick is not null;
        }, because: $"row {seq} is in no tick (is a hub running?)");
        return EventHub.Log.Offset.Format(epoch, new EventHub.Log.LogPosition(tick!.Value, 1, seq));
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
