using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.Storage;

/// <summary>What a read in flight learns when the hub finds the primary's sessions lost (SilentConnectionLossTests end to end).</summary>
public sealed class PrimaryPoolsTests
{
    [Fact]
    public async Task A_clear_cancels_the_loss_token_reads_took_before_it_and_not_the_one_they_take_after()
    {
        await using var primary = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        await using var replica = NpgsqlDataSource.Create("Host=127.0.0.2;Port=1");
        var pools = new PrimaryPools([primary]);
        var before = pools.SessionsLostOf(primary);
        Assert.True(before.CanBeCanceled);
        Assert.False(pools.SessionsLostOf(replica).CanBeCanceled); // a replica's sessions are not the primary's

        var told = new TaskCompletionSource();
        await using var registration = before.Register(() => told.TrySetResult());
        pools.Clear();
        await told.Task.WithTimeout();
        Assert.False(pools.SessionsLostOf(primary).IsCancellationRequested);
    }

    [Fact]
    public async Task A_read_given_up_for_a_loss_runs_again_on_a_new_session_and_a_caller_cancellation_does_not()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        await using var source = HubDataSources.Create(db.ConnectionString, "pooled-sessions-test");
        var pools = new PrimaryPools([source]);
        var sessions = new List<int>();
        var first = true;
        var answer = await PooledSessions.RunAsync(source, async (connection, token) =>
        {
            sessions.Add(connection.ProcessID);
            if (first)
            {
                first = false;
                pools.Clear(); // the hub finds its sessions lost while this read waits
                await new NpgsqlCommand("SELECT pg_sleep(30)", connection).ExecuteNonQueryAsync(token);
            }
            return 42;
        }, CancellationToken.None, pools.SessionsLostOf(source)).WithTimeout();
        Assert.Equal(42, answer);
        Assert.Equal(2, sessions.Distinct().Count());

        using var cancelled = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PooledSessions.RunAsync(source, async (connection, token) =>
        {
            await cancelled.CancelAsync();
            return await new NpgsqlCommand("SELECT pg_sleep(30)", connection).ExecuteScalarAsync(token);
        }, cancelled.Token, pools.SessionsLostOf(source)).WithTimeout());
    }
}
