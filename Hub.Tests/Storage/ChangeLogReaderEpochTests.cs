using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.Storage;

/// <summary>
/// Every stream open needs the log's epoch; callers that ask at once share one read of it. On a
/// hub that had not read it yet, 1,000 SSE opens each opened a session to read it (90 new
/// backends at once) and their headers came 1.3-1.5 s late.
/// </summary>
public sealed class ChangeLogReaderEpochTests
{
    [Fact]
    public async Task Two_hundred_callers_asking_for_the_epoch_at_once_share_one_read_and_one_session()
    {
        await using var db = await TestDatabase.CreateAsync();
        var app = $"epoch-test-{Guid.NewGuid():N}"[..30];
        var connectionString = new NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = app }.ConnectionString;
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(connectionString, "epoch-test");
        var reader = new ChangeLogReader(hubSessions);

        using var start = new ManualResetEventSlim();
        var callers = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await reader.GetEpochAsync();
        })).ToArray();
        start.Set();
        var epochs = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));

        var expected = await (await db.DataSource.OpenConnectionAsync()).ExecuteScalarAsync<string>("SELECT epoch FROM eventhub_epoch");
        Assert.All(epochs, e => Assert.Equal(expected, e));
        await using var check = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = @app", new { app }));
    }

    [Fact]
    public async Task A_failed_read_of_the_epoch_is_not_kept_the_next_caller_reads_again()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "epoch-test");
        var reader = new ChangeLogReader(hubSessions);
        await using (var c = await db.DataSource.OpenConnectionAsync())
            await c.ExecuteAsync("ALTER TABLE eventhub_epoch RENAME TO eventhub_epoch_away");
        await Assert.ThrowsAsync<PostgresException>(async () => await reader.GetEpochAsync());
        await using (var c = await db.DataSource.OpenConnectionAsync())
            await c.ExecuteAsync("ALTER TABLE eventhub_epoch_away RENAME TO eventhub_epoch");
        Assert.False(string.IsNullOrEmpty(await reader.GetEpochAsync()));
    }
}
