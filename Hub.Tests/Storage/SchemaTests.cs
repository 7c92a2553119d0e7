using Dapper;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventHub.Tests.Storage;

/// <summary>Migrations and triggers against a real PostgreSQL.</summary>
public sealed class SchemaTests
{
    [Fact]
    public async Task Migrations_are_idempotent_and_safe_when_several_processes_start_at_once()
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = await server.CreateDatabaseAsync(nameof(SchemaTests));
        var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(connectionString)).ToList();
        try
        {
            // Four "hub processes" migrate the same empty database at the same moment.
            var applied = await Task.WhenAll(sources.Select(s =>
                Task.Run(() => new SchemaMigrator(s, NullLogger<SchemaMigrator>.Instance).MigrateAsync())));
            Assert.Equal(SchemaMigrator.EmbeddedMigrations.Count, applied.Sum());
            Assert.Equal(1, applied.Count(n => n > 0));

            Assert.Equal(0, await new SchemaMigrator(sources[0], NullLogger<SchemaMigrator>.Instance).MigrateAsync());
            await using var c = await sources[0].OpenConnectionAsync();
            Assert.Equal(SchemaMigrator.EmbeddedMigrations.Select(m => m.Version),
                await c.QueryAsync<int>("SELECT version FROM eventhub_schema_migrations ORDER BY version"));
            Assert.Equal(1, await c.ExecuteScalarAsync<int>("SELECT count(*) FROM eventhub_epoch"));
        }
        finally
        {
            foreach (var s in sources) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_update_that_changes_nothing_a_trigger_watches_writes_no_row()
    {
        await using var db = await TestDatabase.CreateAsync();
        var w = db.Writer;
        var s = await w.SessionAsync("ao", 1);
        var pr = await w.PrAsync(s, 1);
        await w.CheckAsync(pr, "build", "c1", "queued");
        await w.ThreadAsync(pr, "T1", "a.cs", 1);
        var before = await db.ChangeLogCountAsync();

        await w.ExecuteAsync("UPDATE sessions SET branch = 'other', updated_at = now() WHERE id = @s", new { s });
        await w.SessionActivityAsync(s, "active");                     // same activity
        await w.ExecuteAsync("UPDATE pr SET number = 2, updated_at = now() WHERE url = @pr", new { pr });
        await w.PrStateAsync(pr, ci: "pending", review: "none", mergeability: "unknown"); // same state
        await w.CheckAsync(pr, "build", "c1", "queued");              // same status
        await w.ExecuteAsync("UPDATE pr_checks SET log_tail = 'x' WHERE pr_url = @pr", new { pr });
        await w.ExecuteAsync("UPDATE pr_review_threads SET semantic_hash = 'h', line = 5 WHERE pr_url = @pr", new { pr });

        Assert.Equal(before, await db.ChangeLogCountAsync());
    }

    [Fact]
    public async Task A_pr_moved_to_another_projects_session_is_announced_in_the_new_project()
    {
        await using var db = await TestDatabase.CreateAsync();
        var from = await db.Writer.SessionAsync("ao", 1);
        var to = await db.Writer.SessionAsync("web", 1);
        var pr = await db.Writer.PrAsync(from, 1);
        await db.Writer.PrSessionAsync(pr, to);
        await using var c = await db.DataSource.OpenConnectionAsync();
        var row = await c.QuerySingleAsync<(string project, string session, string payload)>(
            "SELECT project_id, session_id, payload::text FROM change_log WHERE event_type = 'pr_session_changed'");
        Assert.Equal(("web", "web-1"), (row.project, row.session));
        Assert.Contains("\"fromSession\": \"ao-1\"", row.payload);
    }

    [Fact]
    public async Task The_change_log_is_append_only_and_uses_native_types()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionAsync("ao", 1);
        await Assert.ThrowsAsync<PostgresException>(() => db.Writer.ExecuteAsync("UPDATE change_log SET project_id = 'x'"));
        await using var c = await db.DataSource.OpenConnectionAsync();
        var types = (await c.QueryAsync<(string column, string type)>(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'change_log'")).ToDictionary(x => x.column, x => x.type);
        Assert.Equal("jsonb", types["payload"]);
        Assert.Equal("timestamp with time zone", types["created_at"]);
        Assert.Equal("xid8", types["tx_id"]);
    }
}
