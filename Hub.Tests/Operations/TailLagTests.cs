using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using EventHub.Log;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.Operations;

/// <summary>
/// The lag in events (<c>eventhub_tail_lag_events</c>): committed rows after the tail's position,
/// which goes by tick. It read 0 whenever the tail stood at a tick's end (always, between ticks)
/// and never counted the rows of a transaction that was open across the tail's tick.
/// </summary>
/// <remarks>
/// Alone: OpenTelemetry's meter listener is process-wide, so a scrape of one test hub also
/// collects the "EventHub" meters of the other hubs alive in this process (and drops duplicate
/// instruments): beside the parallel tests the gauge read another hub's value, or was missing.
/// </remarks>
[Collection(AloneCollection.Name)]
public sealed class TailLagTests
{
    private static async Task<long?> CountAsync(TestDatabase db, LogPosition position, int cap = 1_000)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        return await UnpublishedRowsSql.CountAsync(c, position, cap, CancellationToken.None);
    }

    private static Task<long> InsertAsync(NpgsqlConnection c, NpgsqlTransaction? tx = null) =>
        c.ExecuteScalarAsync<long>("INSERT INTO change_log (project_id, event_type, payload) VALUES ('p', 'x', '{}') RETURNING seq", transaction: tx);

    private static async Task<long> TickAsync(NpgsqlConnection c) =>
        (await c.QuerySingleAsync<(long tick_id, bool made)>("SELECT * FROM eventhub_make_tick()")).tick_id;

    private static async Task<LogPosition> PositionOfAsync(NpgsqlConnection c, long tick, long seq) =>
        new(tick, ulong.Parse(await c.ExecuteScalarAsync<string>("SELECT tx_id::text FROM change_log WHERE seq = @seq", new { seq }) ?? "0",
            CultureInfo.InvariantCulture), seq);

    [Fact]
    public async Task Rows_of_a_transaction_open_across_the_tails_tick_count_once_it_commits_and_a_ticks_end_is_not_above_every_row()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        await using var longConnection = await db.DataSource.OpenConnectionAsync();
        await using var open = await longConnection.BeginTransactionAsync();
        await InsertAsync(longConnection, open); // the older xid, still in progress

        await InsertAsync(c);
        var first = await TickAsync(c);
        Assert.Equal(0, await CountAsync(db, LogPosition.EndOf(first)));

        await open.CommitAsync(); // in no tick yet; its xid is below every row of the tick
        Assert.Equal(1, await CountAsync(db, LogPosition.EndOf(first)));
        await InsertAsync(c);
        Assert.Equal(2, await CountAsync(db, LogPosition.EndOf(first)));

        var second = await TickAsync(c);
        Assert.Equal(0, await CountAsync(db, LogPosition.EndOf(second)));
        Assert.Equal(2, await CountAsync(db, LogPosition.EndOf(first)));
    }

    [Fact]
    public async Task Inside_a_tick_the_rest_of_it_counts_whether_the_position_is_in_its_ended_part_or_its_range()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        await using var longConnection = await db.DataSource.OpenConnectionAsync();
        await using var open = await longConnection.BeginTransactionAsync();
        var ended1 = await InsertAsync(longConnection, open);
        var ended2 = await InsertAsync(longConnection, open);
        await InsertAsync(c);
        await TickAsync(c); // the long transaction is in progress here
        await open.CommitAsync();

        await using var batch = await c.BeginTransactionAsync();
        var range1 = await InsertAsync(c, batch);
        var range2 = await InsertAsync(c, batch);
        var range3 = await InsertAsync(c, batch);
        await batch.CommitAsync();
        var tick = await TickAsync(c); // ended: the long transaction's two rows; range: three rows

        Assert.Equal(4, await CountAsync(db, await PositionOfAsync(c, tick, ended1)));
        Assert.Equal(3, await CountAsync(db, await PositionOfAsync(c, tick, ended2)));
        Assert.Equal(2, await CountAsync(db, await PositionOfAsync(c, tick, range1)));
        Assert.Equal(0, await CountAsync(db, await PositionOfAsync(c, tick, range3)));
        Assert.Equal(1, await CountAsync(db, await PositionOfAsync(c, tick, range2)));
    }

    [Fact]
    public async Task The_count_stops_at_its_cap_and_before_the_first_tick_every_row_counts()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        for (var i = 0; i < 5; i++) await InsertAsync(c);
        Assert.Equal(5, await CountAsync(db, LogPosition.Start));
        Assert.Equal(3, await CountAsync(db, LogPosition.Start, cap: 3));

        var tick = await TickAsync(c);
        for (var i = 0; i < 5; i++) await InsertAsync(c);
        Assert.Equal(5, await CountAsync(db, LogPosition.EndOf(tick)));
        Assert.Equal(3, await CountAsync(db, LogPosition.EndOf(tick), cap: 3));
        Assert.Null(await CountAsync(db, LogPosition.EndOf(tick + 1000)));
    }

    [Fact]
    public async Task The_metric_shows_the_rows_the_tail_has_not_published_and_zero_once_it_has()
    {
        await using var db = await TestDatabase.CreateAsync();
        var port = LoopbackPorts.Free();
        // No ticker: the test makes the ticks, so the rows it commits stay unpublished until it does.
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Management:Urls"] = $"http://127.0.0.1:{port}",
            ["Ticker:Enabled"] = "false",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var management = new Uri($"http://127.0.0.1:{port}/metrics");
        var seen = "none yet";
        async Task<bool> LagIs(long events)
        {
            var line = Regex.Match(await http.GetStringAsync(management), @"(?m)^eventhub_tail_lag_events(\{[^}]*\})? (\S+)");
            seen = line.Success ? line.Groups[2].Value : "no such line";
            return seen == events.ToString(CultureInfo.InvariantCulture);
        }
        async Task UntilLagIs(long events, string because)
        {
            try { await TaskTimeouts.UntilAsync(() => LagIs(events), TimeSpan.FromSeconds(60), because: because); }
            catch (TimeoutException) { Assert.Fail($"{because}: the gauge read {seen}, not {events}"); }
        }

        await using var c = await db.DataSource.OpenConnectionAsync();
        await InsertAsync(c);
        await TickAsync(c);
        // The head offset: on a node that does not tick it makes a tick of its own and returns once
        // the tail has published it, so nothing committed so far is unpublished.
        await http.GetStringAsync("/api/v1/events/head").WithTimeout();
        await UntilLagIs(0, "the tail has published every row");

        for (var i = 0; i < 3; i++) await InsertAsync(c);
        // Sampled every 2 s; nothing here makes a tick (no ticker, no head asked).
        await UntilLagIs(3, "three committed rows are in no tick");

        await TickAsync(c);
        await UntilLagIs(0, "the tail publishes the tick");
    }

    /// <summary>Reads <c>eventhub_tail_lag_milliseconds</c> from the management port until it meets a condition.</summary>
    private sealed class LagInMilliseconds(HttpClient http, Uri metrics)
    {
        private string _seen = "none yet";

        public async Task UntilAsync(Func<double, bool> condition, string expected, string because)
        {
            async Task<bool> Meets()
            {
                var line = Regex.Match(await http.GetStringAsync(metrics), @"(?m)^eventhub_tail_lag_milliseconds(\{[^}]*\})? (\S+)");
                _seen = line.Success ? line.Groups[2].Value : "no such line";
                return line.Success && condition(double.Parse(_seen, CultureInfo.InvariantCulture));
            }
            try { await TaskTimeouts.UntilAsync(Meets, TimeSpan.FromSeconds(30), because: because); }
            catch (TimeoutException) { Assert.Fail($"{because}: the gauge read {_seen}, not {expected}"); }
        }
    }

    /// <summary>
    /// The lag in milliseconds is how long committed rows have waited unpublished. It reported the
    /// delay of the last event published: 0 (or that event's few milliseconds) for as long as the
    /// tail stood still with rows waiting, and after one late batch that batch's delay for as long
    /// as the log stayed idle.
    /// </summary>
    [Fact]
    public async Task The_lag_in_milliseconds_grows_while_rows_wait_and_is_zero_once_they_are_published()
    {
        await using var db = await TestDatabase.CreateAsync();
        var port = LoopbackPorts.Free();
        // No ticker: the test makes the ticks, so the rows it commits stay unpublished until it does.
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Management:Urls"] = $"http://127.0.0.1:{port}",
            ["Ticker:Enabled"] = "false",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var lag = new LagInMilliseconds(http, new Uri($"http://127.0.0.1:{port}/metrics"));

        await using var c = await db.DataSource.OpenConnectionAsync();
        await InsertAsync(c);
        await TickAsync(c);
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // publishes everything so far
        await lag.UntilAsync(ms => ms == 0, "0", "nothing committed waits");

        await InsertAsync(c);
        // Sampled every 2 s; nothing here makes a tick (no ticker, no head asked).
        await lag.UntilAsync(ms => ms >= 3_000, "3000 or more", "a committed row in no tick has waited for seconds");

        await TickAsync(c); // the late row is published, and the log stays idle
        await lag.UntilAsync(ms => ms == 0, "0", "nothing committed waits any more");
    }

    /// <summary>
    /// While the database is down the sampler cannot tell whether rows wait: the gauge grows from
    /// the last sample that succeeded instead of keeping its last value (the last event's few
    /// milliseconds, for as long as the outage lasted), and is 0 again once a sample finds none.
    /// </summary>
    [Fact]
    public async Task While_the_database_is_down_the_lag_in_milliseconds_grows_from_the_last_sample()
    {
        await using var cluster = await PrivateCluster.CreateAsync("lagdown");
        var port = LoopbackPorts.Free();
        await using var hub = await HubServer.StartAsync(cluster.ConnectionString, new Dictionary<string, string?>
        {
            ["Management:Urls"] = $"http://127.0.0.1:{port}",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var lag = new LagInMilliseconds(http, new Uri($"http://127.0.0.1:{port}/metrics"));
        await using (var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString))
        await using (var c = await dataSource.OpenConnectionAsync())
            await InsertAsync(c);
        await http.GetStringAsync("/api/v1/events/head").WithTimeout();
        await lag.UntilAsync(ms => ms == 0, "0", "nothing committed waits");

        await cluster.StopAsync();
        await lag.UntilAsync(ms => ms >= 3_000, "3000 or more", "no sample has succeeded for seconds");

        await cluster.StartAsync();
        NpgsqlConnection.ClearAllPools();
        await lag.UntilAsync(ms => ms == 0, "0", "a sample finds nothing waiting again");
    }
}
