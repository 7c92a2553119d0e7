using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The tick function hands a new tick's rows over only within the hand-off's rows and payload
/// bytes (migration 0023), and finds a tick past the byte bound without fetching its toasted
/// payloads: gathering a tick of 1,000 rows of 1 MB outlasted the ticker's round timeout on every
/// try, and no tick was ever made again.
/// </summary>
public sealed class HandOffBoundTests
{
    private const string TickRows = "SELECT made, leader, has_rows, tx FROM eventhub_tick_rows(@owner, interval '1 second', 1000, @bytes)";

    [Fact]
    public async Task A_tick_whose_payloads_pass_the_byte_bound_is_made_without_rows_and_without_fetching_them()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        var owner = Guid.NewGuid();
        // 40 payloads of ~20 KB that do not compress: each stored out of line, in TOAST.
        await ToastedPayloads.InsertAsync(c, 40, 20_000);
        Assert.True(await c.QuerySingleAsync<bool>("SELECT bool_and(pg_column_size(payload) > 19000) FROM change_log"));

        var toastBefore = await ToastedPayloads.BlocksReadAsync(c);
        var rows = (await c.QueryAsync<(bool Made, bool Leader, bool HasRows, string? Tx)>(TickRows, new { owner, bytes = 100_000L })).ToList();
        var toastRead = await ToastedPayloads.BlocksReadAsync(c) - toastBefore;

        var row = Assert.Single(rows);
        Assert.True(row.Made);
        Assert.True(row.Leader);
        Assert.False(row.HasRows); // ~800 KB stored: past 100,000 bytes, read by the tail instead
        Assert.Null(row.Tx);
        Assert.Equal(0, toastRead); // gathered, the 40 payloads were fetched from TOAST (146 blocks, lab)

        // Within the bound, the next tick's rows come back (and are fetched).
        await c.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) SELECT 'p', 'doc_updated', jsonb_build_object('n', g) FROM generate_series(41, 45) g");
        var small = (await c.QueryAsync<(bool Made, bool Leader, bool HasRows, string? Tx)>(TickRows, new { owner, bytes = 100_000L })).ToList();
        Assert.Equal(5, small.Count);
        Assert.All(small, r => Assert.True(r.Made && r.HasRows && r.Tx is not null));
    }

    [Fact]
    public async Task The_previous_signature_of_a_hub_in_a_rolling_upgrade_hands_over_within_the_default_bound()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        var owner = Guid.NewGuid();
        const string Previous = "SELECT made, has_rows, tx FROM eventhub_tick_rows(@owner, interval '1 second', 1000)";
        await c.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) SELECT 'p', 'doc_updated', jsonb_build_object('n', g) FROM generate_series(1, 3) g");
        Assert.Equal(3, (await c.QueryAsync(Previous, new { owner })).Count());

        // 5 MB that does not compress, past the default 4 MiB.
        await ToastedPayloads.InsertAsync(c, 5, 1_000_000);
        var big = Assert.Single(await c.QueryAsync<(bool Made, bool HasRows, string? Tx)>(Previous, new { owner }));
        Assert.True(big.Made);
        Assert.False(big.HasRows);
    }
}
