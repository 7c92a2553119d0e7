using System.Globalization;
using Dapper;
using EventHub.Retention;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventHub.Tests.Resilience;

/// <summary>
/// Retention's cut stops a prune pass after <c>BatchSize</c> rows of the log's order: exactly the
/// batch's last row, across ticks of every size and ticks whose rows came from transactions that
/// were open across earlier ticks (the ended part of a batch), or the wanted position if that comes
/// first.
/// </summary>
public sealed class RetentionCutTests
{
    [Fact]
    public async Task The_cut_is_the_batchs_last_row_in_log_order_or_the_wanted_position_if_that_comes_first()
    {
        // A cluster of its own, so that the test decides the transaction ids: the long transaction's
        // has one digit fewer than the writers' after it in the same tick (999 and 1006, say). The
        // cut's last ORDER BY compared them as text, where '1006' comes before '999', and cut past
        // the batch's end or the wanted position; this test's own order did the same, and it failed
        // only when the shared cluster's ids happened to cross a power of ten inside that tick.
        await using var cluster = await PrivateCluster.CreateAsync("retention-cut");
        await using var admin = new NpgsqlConnection(cluster.Postgres.AdminConnectionString);
        await admin.OpenAsync();
        await admin.ExecuteAsync("ALTER SYSTEM SET autovacuum = off; SELECT pg_reload_conf()"); // no other transaction takes an id
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        await new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance).MigrateAsync();
        await using var c = await dataSource.OpenConnectionAsync();
        var boundary = await TakeIdsUpToBelowAPowerOfTenAsync(c);

        const string insert = "INSERT INTO change_log (project_id, event_type, payload) SELECT 'p', 'x', '{}' FROM generate_series(1, @n)";
        await using (var longConnection = await dataSource.OpenConnectionAsync())
        {
            await using var open = await longConnection.BeginTransactionAsync();
            await longConnection.ExecuteAsync(insert, new { n = 3 }, open); // lands in a later tick's ended part
            foreach (var n in new[] { 1, 4, 2 })
            {
                await c.ExecuteAsync(insert, new { n });
                await c.ExecuteAsync("SELECT eventhub_make_tick()");
            }
            await open.CommitAsync();
        }
        foreach (var n in new[] { 5, 1, 3 })
        {
            await c.ExecuteAsync(insert, new { n });
            await c.ExecuteAsync("SELECT eventhub_make_tick()");
        }
        // The log's order: (tick, tx_id, seq), with tx_id compared as a number.
        var order = (await c.QueryAsync<(long tick, string tx, long seq)>(
            "SELECT eventhub_tick_of(r.tx_id), r.tx_id::text, r.seq FROM change_log r ORDER BY 1, r.tx_id, r.seq")).ToList();
        Assert.Equal(19, order.Count);
        static (long, ulong, long) Key((long tick, string tx, long seq) r) => (r.tick, ulong.Parse(r.tx, CultureInfo.InvariantCulture), r.seq);
        // The premise: one tick holds the long transaction's rows below the power of ten and rows above it.
        var straddlingTicks = order.GroupBy(r => r.tick)
            .Where(t => t.Min(r => Key(r).Item2) < boundary && t.Max(r => Key(r).Item2) >= boundary).Select(t => t.Key).ToList();
        Assert.NotEmpty(straddlingTicks);

        // maxEvents N: the size limit keeps the N newest rows by seq, so the wanted position is the
        // (N+1)-th newest row by seq, placed in its tick.
        var newestFirst = order.OrderByDescending(r => r.seq).ToList();
        foreach (var maxEvents in Enumerable.Range(0, order.Count))
        {
            var wanted = newestFirst[maxEvents];
            foreach (var batch in new[] { 1, 2, 3, 4, 5, 7, 8, 10, 13, 18, 19, 20, 1000 })
            {
                var cut = await c.QuerySingleAsync<(long tick, string tx, long seq)>(RetentionCutSql.Text,
                    new { maxAge = (TimeSpan?)null, maxEvents = (long?)maxEvents, batch });
                var batchEnd = order[Math.Min(batch, order.Count) - 1];
                var expected = new[] { batchEnd, wanted }.MinBy(Key);
                Assert.True(expected == cut,
                    $"maxEvents {maxEvents}, batch {batch}: cut {cut}, expected {expected}; the log's order: {string.Join(", ", order)}");
            }
        }

        // MaxAge: the wanted position is all of the newest tick made before the age, (tick, the
        // largest xid, the largest seq); here the tick that straddles the power of ten.
        var straddling = straddlingTicks.Single();
        await c.ExecuteAsync("""
            UPDATE eventhub_tick SET created_at = CASE WHEN tick_id <= @straddling THEN now() - interval '1 hour' + tick_id * interval '1 second'
                                                       ELSE now() END
            """, new { straddling });
        var allOfIt = (straddling, ulong.MaxValue.ToString(CultureInfo.InvariantCulture), long.MaxValue);
        foreach (var batch in new[] { 1, 7, 8, 9, 10, 13, 15, 16, 1000 })
        {
            var cut = await c.QuerySingleAsync<(long tick, string tx, long seq)>(RetentionCutSql.Text,
                new { maxAge = (TimeSpan?)TimeSpan.FromMinutes(30), maxEvents = (long?)null, batch });
            var expected = new[] { order[Math.Min(batch, order.Count) - 1], allOfIt }.MinBy(Key);
            Assert.True(expected == cut, $"maxAge, batch {batch}: cut {cut}, expected {expected}; the log's order: {string.Join(", ", order)}");
        }
    }

    /// <summary>
    /// Takes transaction ids (each in a transaction of its own) until the next one to be given out is
    /// the last below a power of ten (999, or 9,999 when the cluster is past 990): returns that power.
    /// </summary>
    private static async Task<ulong> TakeIdsUpToBelowAPowerOfTenAsync(NpgsqlConnection c)
    {
        var current = ulong.Parse(await c.QuerySingleAsync<string>("SELECT pg_current_xact_id()::text"), CultureInfo.InvariantCulture);
        var boundary = 1000UL;
        while (boundary < current + 10) boundary *= 10;
        // One statement, its own transactions: each pass of the loop takes an id and commits it.
        await c.ExecuteAsync("SET synchronous_commit = off");
        await c.ExecuteAsync($$"""
            DO $$
            BEGIN
                WHILE pg_current_xact_id() < '{{boundary - 2}}'::xid8 LOOP
                    COMMIT;
                END LOOP;
                COMMIT;
            END $$
            """);
        await c.ExecuteAsync("RESET synchronous_commit");
        return boundary;
    }
}
