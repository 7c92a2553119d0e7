using Dapper;
using EventHub.Retention;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Resilience;

/// <summary>
/// Retention's cut stops a prune pass after <c>BatchSize</c> rows of the log's order: exactly the
/// batch's last row, across ticks of every size and ticks whose rows came from transactions that
/// were open across earlier ticks (the ended part of a batch).
/// </summary>
public sealed class RetentionCutTests
{
    [Fact]
    public async Task The_cut_is_the_batchs_last_row_in_log_order_or_the_wanted_position_if_that_comes_first()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        const string insert = "INSERT INTO change_log (project_id, event_type, payload) SELECT 'p', 'x', '{}' FROM generate_series(1, @n)";
        await using (var longConnection = await db.DataSource.OpenConnectionAsync())
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
        var order = (await c.QueryAsync<(long tick, string tx, long seq)>(
            "SELECT eventhub_tick_of(tx_id), tx_id::text, seq FROM change_log ORDER BY 1, tx_id, seq")).ToList();
        Assert.Equal(19, order.Count);
        // maxEvents 0: every row is beyond the size limit, so the wanted position is the newest row's.
        var newest = order.Single(r => r.seq == order.Max(o => o.seq));

        foreach (var batch in new[] { 1, 2, 3, 4, 5, 7, 8, 10, 13, 18, 19, 20, 1000 })
        {
            var cut = await c.QuerySingleAsync<(long tick, string tx, long seq)>(RetentionCutSql.Text,
                new { maxAge = (TimeSpan?)null, maxEvents = (long?)0, batch });
            var batchEnd = order[Math.Min(batch, order.Count) - 1];
            var expected = new[] { batchEnd, newest }.MinBy(r => (r.tick, ulong.Parse(r.tx, System.Globalization.CultureInfo.InvariantCulture), r.seq));
            if (expected != cut)
                Assert.Fail($"batch {batch}: cut {cut}, expected {expected}\n{await DescribeAsync(c, order)}");
        }
    }

    /// <summary>
    /// The ticks and the rows as the test and the cut each place them: the two disagreed once in a
    /// full run (the cut put the long transaction's rows in the tick whose ended list names it, the
    /// test's eventhub_tick_of did not), not reproduced since; the next failure says which is wrong.
    /// </summary>
    private static async Task<string> DescribeAsync(Npgsql.NpgsqlConnection c, List<(long tick, string tx, long seq)> order)
    {
        var ticks = await c.QueryAsync<string>("""
            SELECT format('tick %s: lo %s hi %s xmin %s xip %s ended %s', tick_id, lo, hi, pg_snapshot_xmin(snap),
                          (SELECT array_agg(x) FROM pg_snapshot_xip(snap) AS x), ended)
            FROM eventhub_tick ORDER BY tick_id
            """);
        var rows = await c.QueryAsync<string>("""
            SELECT format('seq %s tx %s tick_of %s, ended in tick %s, first seen by tick %s', r.seq, r.tx_id, eventhub_tick_of(r.tx_id),
                          (SELECT min(t.tick_id) FROM eventhub_tick t WHERE r.tx_id = ANY (t.ended)),
                          (SELECT min(t.tick_id) FROM eventhub_tick t WHERE pg_visible_in_snapshot(r.tx_id, t.snap)))
            FROM change_log r ORDER BY r.seq
            """);
        return $"the test's order: {string.Join(", ", order)}\n{string.Join("\n", ticks)}\n{string.Join("\n", rows)}";
    }
}
