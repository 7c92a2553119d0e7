using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Storage;

/// <summary>
/// A forward read orders its page by its plan, not by an ORDER BY (<see cref="TickBatchSql.Forward"/>).
/// A page that ever came otherwise may also hold other rows than the first ones: the reader reads
/// it again with the form that sorts before its LIMIT; sorting what came would skip rows for good.
/// </summary>
public sealed class PageOrderTests
{
    [Fact]
    public async Task A_page_that_comes_out_of_order_is_read_again_with_the_form_that_sorts_not_sorted_as_it_came()
    {
        await using var db = await TestDatabase.CreateAsync();
        await WriteThreeTicksAsync(db);
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "page-order-test");
        var expected = (await new ChangeLogReader(hubSessions).ReadAsync(LogPosition.Start, EventFilter.All, 15)).Events
            .Select(e => e.Position).ToList();
        Assert.Equal(15, expected.Count);
        Assert.Equal(expected.Order(), expected);

        // A plan that kept the last rows of the ticks, newest first: what a LIMIT over an order the
        // reader did not expect would keep.
        var misordering = new ChangeLogReader(hubSessions, (filter, sorted) => sorted
            ? TickBatchSql.Forward(filter, sorted: true)
            : TickBatchSql.Forward(filter, sorted: true).Replace(TickBatchSql.SortedPageOrder, "ORDER BY t.tick_id DESC, b.tx_id DESC, b.seq DESC"));
        var page = await misordering.ReadAsync(LogPosition.Start, EventFilter.All, 15);
        Assert.Equal(expected, page.Events.Select(e => e.Position));
        Assert.False(page.Complete);
        Assert.Equal(expected[^1], page.Through);
    }

    [Fact]
    public async Task A_page_cut_by_its_payload_bound_is_checked_for_order_over_the_rows_it_let_go_too()
    {
        await using var db = await TestDatabase.CreateAsync();
        await WriteThreeTicksAsync(db);
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "page-order-test");
        // Payloads of 15 bytes ({"id": "s0-1"}): a bound of 50 keeps three rows.
        var limit = new PageLimit(15, 50);
        var expected = (await new ChangeLogReader(hubSessions).ReadAsync(LogPosition.Start, EventFilter.All, limit)).Events
            .Select(e => e.Position).ToList();
        Assert.Equal(3, expected.Count);

        // The newest tick first, each tick's rows in order: the rows kept (the newest tick's first
        // three) are in order among themselves; the rows let go after them (the older ticks') show
        // that the plan misordered the page.
        var misordering = new ChangeLogReader(hubSessions, (filter, sorted) => sorted
            ? TickBatchSql.Forward(filter, sorted: true)
            : TickBatchSql.Forward(filter, sorted: true).Replace(TickBatchSql.SortedPageOrder, "ORDER BY t.tick_id DESC, b.tx_id, b.seq"));
        var page = await misordering.ReadAsync(LogPosition.Start, EventFilter.All, limit);
        Assert.Equal(expected, page.Events.Select(e => e.Position));
        Assert.False(page.Complete);
        Assert.Equal(expected[^1], page.Through);
    }

    /// <summary>Three ticks of 10 rows each, payloads of 15 bytes (<c>{"id": "s0-1"}</c>).</summary>
    private static async Task WriteThreeTicksAsync(TestDatabase db)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        for (var tick = 0; tick < 3; tick++)
        {
            await c.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT 'p', 'session_created', jsonb_build_object('id', 's' || @tick || '-' || g) FROM generate_series(1, 10) g
                """, new { tick });
            await c.ExecuteAsync("SELECT eventhub_make_tick()");
        }
    }
}
