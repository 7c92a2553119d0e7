using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using EventHub.Tests.Operations;
using EventHub.Streaming.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The ticking node's tail takes each tick's batch from the ticker's own statement (migration
/// 0010, <see cref="ITickBatchSink"/>) instead of reading it back: one statement per event on
/// that node, and exactly the log still, whatever reads and hand-offs overlap.
/// </summary>
public sealed class HandOffTests
{
    [Fact]
    public async Task The_ticking_node_publishes_the_ticks_it_makes_without_reading_them_back()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        CountingReader? tail = null;
        await using var hub = await HubServer.StartAsync(db.ConnectionString, services: s =>
            s.WrapTailReader(inner => tail = new CountingReader(inner)));
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");

        var readsBefore = tail!.Reads;
        for (var i = 1; i <= 30; i++)
        {
            await db.Writer.SessionAsync("ao", i); // one tick each: the next write waits for this one's event
            Assert.Equal($"ao-{i}", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        }
        var reads = tail.Reads - readsBefore;
        // Read back, each tick cost a read (30 and more). Handed over, what is left is the tail's
        // fallback poll (one a second) and the ticks whose NOTIFY woke the tail before the ticker's
        // hand-off ran (both follow the commit; the tail then reads and the hand-off stands down).
        Assert.True(reads < 20, $"the tail read the log {reads} times for 30 ticks its own node made");
    }

    [Fact]
    public async Task A_ticks_NOTIFY_that_comes_before_its_hand_off_does_not_make_the_tail_read_the_tick()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        CountingReader? tail = null;
        // Every hand-off comes 30 ms after the tick's commit, so every tick's NOTIFY reaches the
        // tail first (the race that made a fifth of the ticks under load read back).
        // No fallback poll: what is counted is the reads NOTIFYs make. A read is still left to a
        // hand-off later than the tail's wait for its own round (100 ms): the ticker's thread held
        // up by a loaded machine.
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:PollInterval"] = "01:00:00" }, services: s =>
        {
            s.WrapTailReader(inner => tail = new CountingReader(inner));
            s.AddSingleton<ITickBatchSink>(sp => new LateHandOff(sp.GetRequiredService<ChangeLogTail>(), TimeSpan.FromMilliseconds(30)));
        });
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");

        var readsBefore = tail!.Reads;
        for (var i = 1; i <= 30; i++)
        {
            await db.Writer.SessionAsync("ao", i);
            Assert.Equal($"ao-{i}", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        }
        // Reading on every NOTIFY: 30 reads and more. Waiting for the round: none, but for a
        // hand-off held up past the wait.
        var reads = tail.Reads - readsBefore;
        Assert.True(reads <= 8, $"the tail read the log {reads} times for 30 ticks its own node handed over");
    }

    [Fact]
    public async Task After_a_stretch_of_hand_offs_the_tail_reads_a_tick_too_large_to_hand_over_from_what_is_published()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        CountingReader? tail = null;
        // No fallback poll: while ticks are handed over the tail reads nothing (as under steady traffic).
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Ticker:HandOffRows"] = "5",
            ["Stream:PollInterval"] = "01:00:00",
        }, services: s => s.WrapTailReader(inner => tail = new CountingReader(inner)));
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");
        for (var i = 1; i <= 20; i++)
        {
            await db.Writer.SessionAsync("ao", i);
            Assert.Equal($"ao-{i}", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        }
        await using var c = await db.DataSource.OpenConnectionAsync();
        var published = await c.QuerySingleAsync<long>("SELECT max(tick_id) FROM eventhub_tick");
        var readsBefore = tail!.Reads;

        await db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'ao', 'session_created', jsonb_build_object('id', 'big-' || i) FROM generate_series(1, 6) i
            """);
        for (var i = 1; i <= 6; i++)
            Assert.Equal($"big-{i}", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        // Before: from where the last read had ended (the hub's start), re-reading the 20 ticks.
        var from = tail.From.Skip(readsBefore).ToList();
        Assert.NotEmpty(from);
        Assert.All(from, p => Assert.True(p.Tick >= published, $"the tail read from tick {p.Tick}, {published} being published"));
    }

    [Fact]
    public async Task A_tick_of_large_payloads_is_not_handed_over_whole_the_tail_reads_it_in_pages_its_payload_bound_holds()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        CountingReader? tail = null;
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Ticker:HandOffPayloadBytes"] = "100000",
            ["Stream:TailBatchPayloadBytes"] = "100000",
        }, services: s => s.WrapTailReader(inner => tail = new CountingReader(inner)));
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");
        var readsBefore = tail!.Reads;

        // One transaction, one tick of 40 rows (within Ticker:HandOffRows) and ~800 KB of payload.
        await db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'ao', 'doc_updated', jsonb_build_object('id', 'big-' || i, 'body', repeat('x', 20000)) FROM generate_series(1, 40) i
            """);
        for (var i = 1; i <= 40; i++)
            Assert.Equal($"big-{i}", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());

        // Handed over, the tick was held whole (0 reads); read at the tail's first read's row
        // count, it was too (the payloads before it were small). Each read holds at most the bound.
        var pages = tail.PayloadsReturned.Skip(readsBefore).Where(b => b > 0).ToList();
        Assert.True(pages.Count >= 8, $"the tail read the tick in {pages.Count} pages");
        Assert.All(pages, bytes => Assert.InRange(bytes, 1, 100_000));
    }

    /// <summary>The tail as the ticker's sink, its hand-offs delayed (the ticker's thread sleeps: it is its own).</summary>
    private sealed class LateHandOff(ITickBatchSink inner, TimeSpan delay) : ITickBatchSink
    {
        public bool TryPublishTick(long tick, IReadOnlyList<LogEvent> events)
        {
            Thread.Sleep(delay);
            return inner.TryPublishTick(tick, events);
        }

        public void BeginRound() => inner.BeginRound();

        public void EndRound() => inner.EndRound();
    }

    [Fact]
    public async Task A_tick_larger_than_the_hand_off_and_one_larger_than_a_state_read_merges_itself_are_read_and_folded_exactly()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?> { ["Ticker:HandOffRows"] = "5" });
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");

        // 20 rows: past the hand-off (5), read by the tail. 10,050 rows: more than a state read merges
        // itself (LiveStateReader.PendingRows, 10,000); published, and folded set-based by LiveStateUpkeep
        // as every tick is (migration 0022).
        foreach (var rows in new[] { 20, 10_050 })
        {
            await db.Writer.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT 'ao', 'session_created', jsonb_build_object('id', 'big-' || @rows || '-' || i) FROM generate_series(1, @rows) i
                """, new { rows });
            for (var i = 1; i <= rows; i++)
                Assert.Equal($"big-{rows}-{i}", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        }
        await using var c = await db.DataSource.OpenConnectionAsync();
        await TaskTimeouts.UntilAsync(async () => await c.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM eventhub_state WHERE project_id = 'ao' AND kind = 'session' AND entity_key LIKE '[\"big-%'") == 20 + 10_050,
            TimeSpan.FromSeconds(30), "the large tick folded into the state");
    }

    [Fact]
    public async Task With_writers_and_another_ticker_racing_the_hubs_ticker_a_stream_gets_exactly_the_log_in_its_order()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");

        // Ticks made elsewhere reach the tail by NOTIFY and a read, the hub's own by hand-off. A
        // hand-off that does not follow exactly on what the tail published (a tick made elsewhere
        // in between, not read yet) must stand down, or that tick is lost (this fails then); a
        // read that overlaps a hand-off returns rows already published, which are skipped.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            await using var c = await db.DataSource.OpenConnectionAsync();
            for (var i = 0; !stop.IsCancellationRequested; i++)
                await c.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) SELECT 'ao', 'x', '{}' FROM generate_series(1, @n)",
                    new { n = 1 + (i + w) % 3 });
        })).ToList();
        var ticker = Task.Run(async () =>
        {
            await using var c = await db.DataSource.OpenConnectionAsync();
            while (!stop.IsCancellationRequested) await c.ExecuteAsync("SELECT eventhub_make_tick()");
        });
        await Task.WhenAll(writers.Append(ticker));
        await db.Writer.ExecuteAsync("SELECT eventhub_make_tick()");

        await using var check = await db.DataSource.OpenConnectionAsync();
        var expected = (await check.QueryAsync<long>(
            "SELECT seq FROM change_log WHERE project_id = 'ao' AND event_type = 'x' ORDER BY eventhub_tick_of(tx_id), tx_id, seq")).ToList();
        var received = new List<long>();
        while (received.Count < expected.Count)
            received.Add((await sse.ReadEventAsync(TimeSpan.FromSeconds(30))).Json.GetProperty("seq").GetInt64());
        Assert.True(expected.Count > 200, $"only {expected.Count} rows were written");
        Assert.Equal(expected, received);
        var ticksMade = hub.Get<Ticker>().TicksMade;
        Assert.True(ticksMade > 10, $"the hub's ticker made only {ticksMade} of the ticks");
    }
}
