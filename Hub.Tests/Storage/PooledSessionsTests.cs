using Dapper;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Storage;

/// <summary>Reads on sessions the server closed while they sat in the pool (ClosedSessionTests end to end).</summary>
public sealed class PooledSessionsTests(ITestOutputHelper output)
{
    private const string Pool = "pooled-sessions-closed";

    /// <summary>
    /// Several reads that each find their session closed clear the pool at the same moment, and
    /// Npgsql skips a clear while another one runs: a read whose clear was skipped took its next
    /// session from what the running clear had not yet closed, another closed one, and failed
    /// (ClosedSessionTests failed so in CI: 57P01 on the read's second session).
    /// </summary>
    [Fact]
    public async Task Reads_that_find_their_sessions_closed_at_the_same_moment_all_run_again_on_live_sessions()
    {
        const int poolSize = 40, readers = 8, rounds = 10;
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        await using var source = NpgsqlDataSource.Create(db.ConnectionString + $";Application Name={Pool};Maximum Pool Size={poolSize}");
        await using var admin = await db.DataSource.OpenConnectionAsync();
        for (var round = 0; round < rounds; round++)
        {
            var sessions = await Task.WhenAll(Enumerable.Range(0, poolSize).Select(_ => source.OpenConnectionAsync().AsTask()));
            foreach (var session in sessions) await session.DisposeAsync(); // idle in the pool
            // Every session is signalled first, then the round waits for them all to be gone:
            // pg_terminate_backend(pid, timeout) waits in steps of 100 ms, one session after
            // another (4 s a round for 40).
            var closed = (await admin.QueryAsync<int>("""
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = @Pool AND state = 'idle'
                """, new { Pool })).ToArray();
            Assert.Equal(poolSize, closed.Length);
            Assert.Equal(poolSize, await admin.ExecuteScalarAsync<int>(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(@closed) AS pid", new { closed }));
            await TaskTimeouts.UntilAsync(async () => await admin.ExecuteScalarAsync<bool>(
                "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = ANY(@closed))", new { closed }), because: "the closed sessions ended");

            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var reads = Enumerable.Range(0, readers).Select(_ => Task.Run(async () =>
            {
                await go.Task;
                return await PooledSessions.RunAsync(source, (c, token) =>
                    c.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: token)), CancellationToken.None);
            })).ToArray();
            go.SetResult();
            var answers = await Task.WhenAll(reads).WithTimeout();
            Assert.All(answers, a => Assert.Equal(1, a));
        }
        output.WriteLine($"{rounds} rounds of {readers} reads on a pool of {poolSize} closed sessions: all answered");
    }
}
