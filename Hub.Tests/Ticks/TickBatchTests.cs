using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The ordering core in SQL (migration 0007): batches of ticks partition the committed rows, with
/// writers and tickers racing, rollbacks and savepoints; and no writer sends a NOTIFY.
/// </summary>
public sealed class TickBatchTests
{
    /// <summary>Every committed row, with the tick whose batch holds it (null: in none), computed from the stored ticks alone.</summary>
    private const string BatchOfEveryRow = """
        SELECT c.seq,
               (SELECT count(*) FROM eventhub_tick t
                WHERE c.tx_id = ANY(t.ended)
                   OR (c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap))) AS batches
        FROM change_log c
        """;

    [Fact]
    public Task With_eight_writers_rollbacks_savepoints_and_four_tickers_racing_every_committed_row_is_in_exactly_one_batch() =>
        RaceAsync(databaseIsolation: null);

    /// <summary>
    /// The tick function's order rests on READ COMMITTED: it takes the tick lock, then its snapshot
    /// in a later statement. Under REPEATABLE READ the snapshot is the transaction's first, taken
    /// before the lock, so a ticker that waited for another stored an older snapshot than the tick
    /// it had waited for (and did not see that tick): batches overlapped. The hub's sessions start
    /// READ COMMITTED whatever the database's default (HubDataSources); fails without that.
    /// </summary>
    [Fact]
    public Task With_the_databases_default_isolation_repeatable_read_the_hubs_sessions_still_tick_in_one_order() =>
        RaceAsync(databaseIsolation: "repeatable read");

    private static async Task RaceAsync(string? databaseIsolation, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        await using var db = await TestDatabase.CreateAsync(name);
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "tick-race-test");
        if (databaseIsolation is not null)
            await db.Writer.ExecuteAsync($"ALTER DATABASE \"{new NpgsqlConnectionStringBuilder(db.ConnectionString).Database}\" SET default_transaction_isolation = '{databaseIsolation}'");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        var rolledBack = 0L;
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            await using var c = await db.DataSource.OpenConnectionAsync();
            var random = new Random(w);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await using var tx = await c.BeginTransactionAsync();
                await c.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) SELECT 'p', 'x', '{}' FROM generate_series(1, @n)",
                    new { n = random.Next(1, 4) }, tx);
                if (random.Next(4) == 0)
                {
                    // A subtransaction: rows under a savepoint carry the top-level xid.
                    await tx.SaveAsync("s");
                    await c.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('p', 'sub', '{}')", transaction: tx);
                    if (random.Next(2) == 0) await tx.RollbackAsync("s");
                }
                if (random.Next(5) == 0)
                {
                    await tx.RollbackAsync();
                    Interlocked.Increment(ref rolledBack);
                }
                else await tx.CommitAsync();
            }
        })).ToList();
        // Several tickers at once (as in a split brain): the lock in the function orders them.
        var tickers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            await using var c = await hubSessions.OpenConnectionAsync(); // as the hub's ticker and "now" open them
            while (!stop.IsCancellationRequested) await c.ExecuteAsync("SELECT eventhub_make_tick()");
        })).ToList();
        await Task.WhenAll(writers.Concat(tickers));
        await using (var last = await hubSessions.OpenConnectionAsync())
            await last.ExecuteAsync("SELECT eventhub_make_tick()"); // the last commits

        await using var check = await db.DataSource.OpenConnectionAsync();
        var rows = (await check.QueryAsync<(long seq, long batches)>(BatchOfEveryRow)).ToList();
        var ticks = await check.ExecuteScalarAsync<long>("SELECT count(*) FROM eventhub_tick");
        Assert.True(rows.Count > 100, $"only {rows.Count} rows were written");
        Assert.True(ticks > 10, $"only {ticks} ticks were made");
        Assert.True(Interlocked.Read(ref rolledBack) > 0);
        Assert.All(rows, r => Assert.True(r.batches == 1, $"row {r.seq} is in {r.batches} batches"));
        // Snapshots only grow: every tick sees at least what the one before saw.
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM eventhub_tick a JOIN eventhub_tick b ON b.tick_id = a.tick_id + 1
            WHERE b.hi < a.hi OR b.lo <> a.hi
            """));
    }

    [Fact]
    public async Task A_tick_is_made_only_when_a_committed_row_is_in_none_and_the_long_transactions_row_lands_in_the_first_tick_after_its_commit()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        var first = await c.QuerySingleAsync<(long tick_id, bool made)>("SELECT * FROM eventhub_make_tick()");
        Assert.False(first.made); // nothing new since the first tick

        await using var longConnection = await db.DataSource.OpenConnectionAsync();
        await using var longTx = await longConnection.BeginTransactionAsync();
        await longConnection.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('p', 'long', '{}')", transaction: longTx);

        await c.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('p', 'short', '{}')");
        var second = await c.QuerySingleAsync<(long tick_id, bool made)>("SELECT * FROM eventhub_make_tick()");
        Assert.True(second.made);
        Assert.False((await c.QuerySingleAsync<(long tick_id, bool made)>("SELECT * FROM eventhub_make_tick()")).made);

        await longTx.CommitAsync();
        var third = await c.QuerySingleAsync<(long tick_id, bool made)>("SELECT * FROM eventhub_make_tick()");
        Assert.True(third.made); // its xid was in progress at the last tick and has ended: its row needs a tick
        var batchOf = await c.QuerySingleAsync<long>("""
            SELECT t.tick_id FROM change_log r, eventhub_tick t
            WHERE r.event_type = 'long' AND r.tx_id = ANY(t.ended)
            """);
        Assert.Equal(third.tick_id, batchOf);
    }

    [Fact]
    public async Task Writers_send_no_notification_by_default_and_the_ticker_sends_one_per_tick()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var listener = await db.DataSource.OpenConnectionAsync();
        var channels = new List<string>();
        listener.Notification += (_, e) => { lock (channels) channels.Add(e.Channel); };
        await listener.ExecuteAsync("LISTEN eventhub_change_log; LISTEN eventhub_tick");

        await db.Writer.ProjectAsync("ao");
        await db.Writer.SessionAsync("ao", 1);
        await db.Writer.ExecuteAsync("SELECT eventhub_make_tick()");
        // Notifications are queued in commit order, so a writer's would arrive before the tick's.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!channels.Contains("eventhub_tick")) await listener.WaitAsync(timeout.Token);
        await listener.ExecuteAsync("SELECT 1"); // drains anything else already sent
        lock (channels) Assert.Equal(["eventhub_tick"], channels);
        Assert.Equal(0, await listener.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'change_log'::regclass AND tgname = 'change_log_wake'"));
    }
}
