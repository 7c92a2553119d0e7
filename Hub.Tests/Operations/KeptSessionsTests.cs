using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Operations;

/// <summary>
/// The sessions of the tail's and the catch-up reads' pools stay open while idle
/// (LogDataSources: each pool's minimum is its size). Npgsql closes idle sessions down to a pool's
/// minimum, and the next read then goes through a new backend, which maps every shared buffer it
/// touches by a page fault and plans its prepared statement anew: a catch-up read 2.5 times slower
/// at first (bench/results/2026-12-05-stop42.md), and the tail's first read after a quiet spell (a
/// bulk load's tick, on the ticking node) as slow on the live path.
/// </summary>
/// <remarks>
/// The connection string makes Npgsql close sessions idle for a second. Each pool prunes on its
/// own timer, so the tests first wait for idle sessions of the shared pool to be closed (pruning
/// runs), then keep the pools under test idle for three more of their pruning passes: idleness is
/// what is tested, hence that wait.
/// </remarks>
[Collection(AloneCollection.Name)]
public sealed class KeptSessionsTests(ITestOutputHelper output)
{
    private const string Pruning = ";Connection Idle Lifetime=1;Connection Pruning Interval=1";
    private const int LogRows = 300;

    [Fact]
    public async Task The_catch_up_reads_keep_their_sessions_while_idle_sessions_of_the_shared_pool_are_closed()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", LogRows);
        await using var hub = await HubServer.StartAsync(db.ConnectionString + Pruning, new Dictionary<string, string?>
        {
            ["Stream:RecentEventsWindowSize"] = "0", // the catch-up reads the log
            ["Stream:CatchUpBatchSize"] = "100",
        });
        await using var check = await db.DataSource.OpenConnectionAsync();
        var before = await CatchUpAsync();
        output.WriteLine($"catch-up sessions after the first catch-up: {string.Join(", ", before)}");
        Assert.NotEmpty(before);

        await StayIdleWhileTheSharedPoolIsPrunedAsync(hub, check);

        Assert.Equal(before, await SessionsAsync(check, "catch-up"));
        // And the next catch-up reads with them, not with a new session.
        Assert.Equal(before, await CatchUpAsync());

        async Task<int[]> CatchUpAsync()
        {
            await using (var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=bulk&after=0"))
                await sse.ReadEventsAsync(LogRows);
            return await SessionsAsync(check, "catch-up");
        }
    }

    [Fact]
    public async Task The_tail_keeps_its_read_session_while_idle_sessions_of_the_shared_pool_are_closed()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", LogRows);
        // The tail reads the log when it loads its window at start; on the ticking node it then
        // reads only ticks above Ticker:HandOffRows, so its read session sits idle.
        await using var hub = await HubServer.StartAsync(db.ConnectionString + Pruning);
        await using var check = await db.DataSource.OpenConnectionAsync();
        var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int[] before;
        while ((before = await SessionsAsync(check, "tail", reads: true)).Length == 0)
            await Task.Delay(50, bound.Token); // until the window load has run, bounded
        output.WriteLine($"tail read sessions after start: {string.Join(", ", before)}");

        await StayIdleWhileTheSharedPoolIsPrunedAsync(hub, check);

        // Still there (another read may have opened a second session meanwhile: not the question).
        var after = await SessionsAsync(check, "tail", reads: true);
        Assert.All(before, pid => Assert.Contains(pid, after));
    }

    private async Task StayIdleWhileTheSharedPoolIsPrunedAsync(HubServer hub, NpgsqlConnection check)
    {
        var shared = new List<int>();
        var held = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => hub.Get<NpgsqlDataSource>().OpenConnectionAsync().AsTask()));
        foreach (var c in held) { shared.Add(c.ProcessID); await c.DisposeAsync(); }
        var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await check.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(@shared)", new { shared = shared.ToArray() }) > 0)
            await Task.Delay(100, bound.Token); // polls the pool's timer, bounded
        output.WriteLine($"idle sessions of the shared pool closed: {string.Join(", ", shared)}");
        await Task.Delay(TimeSpan.FromSeconds(3)); // three pruning passes of idleness: what is tested, not a synchronisation
    }

    /// <summary>The hub's sessions of one pool (by application name), or those of them whose last statement was a page read.</summary>
    private static async Task<int[]> SessionsAsync(NpgsqlConnection check, string pool, bool reads = false) => [.. await check.QueryAsync<int>($"""
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE '% {pool}'
          {(reads ? "AND query LIKE '%h.head_tick, h.last_tick%'" : "")}
        ORDER BY pid
        """)];
}
