using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Storage;

/// <summary>
/// The reader's forward read is a prepared statement that outlives the pool's opens: a session
/// parses it once, however many pages it reads (parsing and planning it was ~1 ms of a page's
/// 3.5-5 ms in the database). Its generic plan is checked in LargeLogPlanTests.
/// </summary>
public sealed class PreparedReadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_page_of_a_catch_up_runs_the_one_statement_its_session_prepared()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var c = await db.DataSource.OpenConnectionAsync())
        {
            for (var tick = 0; tick < 12; tick++)
            {
                await c.ExecuteAsync("""
                    INSERT INTO change_log (project_id, event_type, payload)
                    SELECT 'p' || (g % 2), 'session_created', jsonb_build_object('id', 's' || @tick || '-' || g) FROM generate_series(1, 10) g
                    """, new { tick });
                await c.ExecuteAsync("SELECT eventhub_make_tick()");
            }
        }
        // One session in the pool, so every read and the check below share it.
        var oneSession = new NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = 1 }.ConnectionString;
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(oneSession, "prepared-read-test");
        var reader = new ChangeLogReader(hubSessions);
        var oneProject = new EventFilter(["p1"], null);
        var position = LogPosition.Start;
        var pages = 0;
        var events = 0;
        while (true)
        {
            var page = await reader.ReadAsync(position, oneProject, 7);
            pages++;
            events += page.Events.Count;
            position = page.Through;
            if (page.Complete) break;
        }
        Assert.Equal(60, events);
        Assert.True(pages >= 9, $"{pages} pages");

        await using var session = await hubSessions.OpenConnectionAsync();
        var statements = (await session.QueryAsync<(string Statement, long Generic, long Custom)>(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%eventhub_tick%'")).ToList();
        foreach (var s in statements) output.WriteLine($"{s.Generic} generic, {s.Custom} custom plans: {s.Statement[..60]}...");
        var read = Assert.Single(statements);
        Assert.Equal(pages, read.Generic + read.Custom);
    }
}
