using System.Diagnostics;
using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The ticker's wait for a commit inside the database (migration 0012): it answers "a tick is due"
/// exactly when the tick function would make a tick, and looks again while it waits.
/// </summary>
public sealed class CommitWaitTests
{
    private const string Look = "SELECT eventhub_wait_for_commit('0', '1 ms')";
    private const string Insert = "INSERT INTO change_log (project_id, event_type, payload) VALUES ('p', 'x', '{}')";

    [Fact]
    public async Task It_is_due_for_a_committed_row_in_no_tick_and_not_for_an_uncommitted_or_rolled_back_one()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        await c.ExecuteAsync("SELECT eventhub_make_tick()");
        Assert.False(await c.ExecuteScalarAsync<bool>(Look));

        await using var open = await db.DataSource.OpenConnectionAsync();
        await using var openTx = await open.BeginTransactionAsync();
        await open.ExecuteAsync(Insert, transaction: openTx);
        Assert.False(await c.ExecuteScalarAsync<bool>(Look)); // not committed

        await using (var rolledBack = await db.DataSource.OpenConnectionAsync())
        await using (var tx = await rolledBack.BeginTransactionAsync())
        {
            await rolledBack.ExecuteAsync(Insert, transaction: tx);
            await tx.RollbackAsync();
        }
        Assert.False(await c.ExecuteScalarAsync<bool>(Look)); // rolled back

        await c.ExecuteAsync(Insert);
        Assert.True(await c.ExecuteScalarAsync<bool>(Look)); // committed, above the last tick's xmax
        await c.ExecuteAsync("SELECT eventhub_make_tick()");
        Assert.False(await c.ExecuteScalarAsync<bool>(Look)); // in a tick now

        // The open transaction was in progress at that tick: its commit makes a tick due although
        // its xid is below the tick's xmax (the tick function's "ended" list).
        await openTx.CommitAsync();
        Assert.True(await c.ExecuteScalarAsync<bool>(Look));
        await c.ExecuteAsync("SELECT eventhub_make_tick()");
        Assert.False(await c.ExecuteScalarAsync<bool>(Look));
    }

    [Fact]
    public async Task A_wait_ends_at_the_first_look_after_a_commit_not_at_its_bound()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        await c.ExecuteAsync("SELECT eventhub_make_tick()");

        // Nothing comes: the wait lasts its bound.
        var empty = Stopwatch.StartNew();
        Assert.False(await c.ExecuteScalarAsync<bool>("SELECT eventhub_wait_for_commit('300 ms', '5 ms')"));
        Assert.True(empty.Elapsed >= TimeSpan.FromMilliseconds(290), $"an empty wait of 300 ms returned after {empty.ElapsedMilliseconds} ms");

        // A commit while it waits: it returns true long before its 20 s bound (one look at the
        // start and none after would wait all of it).
        // Bounded by cancelling the statement (closing a connection with a statement in flight hangs).
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var waitCommand = new NpgsqlCommand("SELECT eventhub_wait_for_commit('20 s', '5 ms')", c);
        var wait = waitCommand.ExecuteScalarAsync(bound.Token);
        await using (var w = await db.DataSource.OpenConnectionAsync())
        {
            // The commit comes while the wait is under way: once its backend sleeps between looks.
            await TaskTimeouts.UntilAsync(async () => await w.ExecuteScalarAsync<bool>("""
                SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                               WHERE wait_event = 'PgSleep' AND query LIKE '%eventhub_wait_for_commit(''20 s''%')
                """), because: "the wait never began sleeping between its looks");
            await w.ExecuteAsync(Insert);
        }
        Assert.True((bool)(await wait)!); // cancelled (and failing) if it waits 10 s
    }
}
