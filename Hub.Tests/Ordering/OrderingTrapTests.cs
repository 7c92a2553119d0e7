using System.Collections.Concurrent;
using Dapper;
using EventHub.Log;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;
using EventHub.Streaming.Internal;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventHub.Tests.Ordering;

/// <summary>
/// The PostgreSQL ordering trap (cdc-contract.md, "The PostgreSQL ordering trap"): transactions
/// commit out of <c>seq</c> order and rollbacks leave holes. Every committed event must reach a
/// live subscriber and a resuming subscriber exactly once, in offset order.
/// </summary>
/// <remarks>
/// <see cref="A_naive_seq_cursor_skips_an_event_that_commits_out_of_seq_order"/> runs the same
/// interleaving against the naive reader (<c>WHERE seq &gt; @last</c>) and shows that it loses the
/// event for good; the hub's tests on the same interleaving fail the same way if the hub's reader
/// is replaced by that cursor (docs/design.md, "Ordering").
/// </remarks>
[Collection(AloneCollection.Name)] // holds transactions open: on the shared cluster they would stall every other test's stream (issue 13)
public sealed class OrderingTrapTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private HubServer _hub = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(OrderingTrapTests));
        await _db.Writer.ProjectAsync("ao");
        _hub = await HubServer.StartAsync(_db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_naive_seq_cursor_skips_an_event_that_commits_out_of_seq_order()
    {
        var naive = new NaiveSeqCursor(_db.DataSource);
        await naive.ReadAsync(); // start at the current end

        await using var slow = await BeginInsertAsync("ao", 1);   // takes the lower seq, stays open
        await using (var fast = await BeginInsertAsync("ao", 2))  // takes the higher seq, commits first
            await fast.CommitAsync();

        Assert.Equal(["ao-2"], await naive.ReadAsync());         // the cursor moves past ao-1's seq
        await slow.CommitAsync();
        Assert.Empty(await naive.ReadAsync());                    // ao-1 is committed, and lost for good
    }

    [Fact]
    public async Task The_live_test_below_fails_when_the_hub_tails_with_a_naive_seq_cursor()
    {
        // The same interleaving as the next test, against a second hub whose reader is the naive
        // cursor: the live subscriber never gets ao-1. The next test's assertion would fail.
        await using var naiveHub = await HubServer.StartAsync(_db.ConnectionString,
            services: s =>
            {
                s.AddSingleton<IChangeLogReader>(sp => new NaiveSeqChangeLogReader(_db.DataSource));
                // The tail reads through its own reader (its own pool), so replace that one too.
                s.AddKeyedSingleton<IChangeLogReader>(LogReaders.Tail, (sp, _) => new NaiveSeqChangeLogReader(_db.DataSource));
            });
        await using var live = await SseTestClient.ConnectAsync(naiveHub.BaseAddress, "project=ao");

        await using var slow = await BeginInsertAsync("ao", 1);
        await using (var fast = await BeginInsertAsync("ao", 2))
            await fast.CommitAsync();
        await live.ReadEventAsync(); // ao-2: the naive tail's cursor is now past ao-1's seq
        await slow.CommitAsync();
        await _db.Writer.SessionAsync("ao", 3);

        Assert.Equal("ao-3", Id(await live.ReadEventAsync())); // ao-1 was skipped
    }

    [Fact]
    public async Task An_event_that_commits_out_of_seq_order_reaches_live_and_resuming_subscribers_once()
    {
        await using var live = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");

        await using var slow = await BeginInsertAsync("ao", 1);
        await using (var fast = await BeginInsertAsync("ao", 2))
            await fast.CommitAsync();
        // The trap springs only if the tail reads while ao-2 is committed and ao-1 is not: a seq
        // cursor then moves past ao-1 for good. Without this wait the tail may read both at once
        // and a naive reader would pass by luck.
        await TailHasReadSinceAsync(_hub.Get<ChangeLogTail>());
        await slow.CommitAsync();
        await _db.Writer.SessionAsync("ao", 3);

        var frames = await live.ReadEventsAsync(3);
        Assert.Equal(["ao-1", "ao-2", "ao-3"], frames.Select(Id).Order());
        Assert.Equal(3, frames.Select(f => f.Id).Distinct().Count());

        // A subscriber that resumes from each of these offsets gets exactly what follows it.
        await _db.Writer.SessionAsync("ao", 100); // sentinel: the end of what is coming
        for (var i = 0; i < frames.Count; i++)
        {
            await using var resumed = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao", lastEventId: frames[i].Id);
            var rest = await ReadUntilAsync(resumed, "ao-100");
            Assert.Equal(frames.Skip(i + 1).Select(f => f.Id), rest.Select(f => f.Id));
        }
    }

    [Fact]
    public async Task Concurrent_writers_with_slow_commits_and_rollbacks_lose_and_duplicate_nothing()
    {
        await using var live = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");
        var committed = new ConcurrentBag<string>();
        var liveFrames = new List<SseFrame>();
        var naive = new NaiveSeqCursor(_db.DataSource);
        await naive.ReadAsync();
        var naiveSeen = new List<string>();

        const int writers = 8, transactionsPerWriter = 20;
        var writing = Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var t = 0; t < transactionsPerWriter; t++)
            {
                await using var connection = await _db.DataSource.OpenConnectionAsync();
                await using var tx = await connection.BeginTransactionAsync();
                var ids = Enumerable.Range(0, random.Next(1, 4)).Select(k => $"ao-{w}{t:D3}{k}").ToList();
                foreach (var id in ids)
                    await connection.ExecuteAsync(
                        "INSERT INTO sessions (id, project_id, num) VALUES (@id, 'ao', @num)",
                        new { id, num = int.Parse(id[3..]) }, tx);
                // Hold some transactions open so that later seqs commit first.
                if (random.Next(3) == 0)
                    await connection.ExecuteAsync("SELECT pg_sleep(@s)", new { s = random.Next(5, 60) / 1000.0 }, tx);
                if (random.Next(5) == 0)
                {
                    await tx.RollbackAsync(); // leaves a hole in seq
                    continue;
                }
                await tx.CommitAsync();
                foreach (var id in ids) committed.Add(id);
            }
        })));

        // Meanwhile: a subscriber that joins mid-way from an offset the live one received.
        var firstFrames = await live.ReadEventsAsync(20);
        liveFrames.AddRange(firstFrames);
        await using var resumed = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao", lastEventId: firstFrames[^1].Id);
        while (!writing.IsCompleted) { naiveSeen.AddRange(await naive.ReadAsync()); await Task.Yield(); }
        await writing.WithTimeout(TimeSpan.FromSeconds(60));
        naiveSeen.AddRange(await naive.ReadAsync());

        await _db.Writer.SessionAsync("ao", 999999); // sentinel: after it, nothing else is coming
        liveFrames.AddRange(await ReadUntilAsync(live, "ao-999999"));
        var resumedFrames = await ReadUntilAsync(resumed, "ao-999999");
        await using var replay = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao&after=0");
        var replayFrames = await ReadUntilAsync(replay, "ao-999999");

        var expected = committed.Order().ToList();
        // Live: every committed event exactly once.
        Assert.Equal(expected, liveFrames.Select(Id).Order());
        // Resume mid-way: exactly the events after the offset, in the same order as live.
        Assert.Equal(liveFrames.Skip(20).Select(f => f.Id), resumedFrames.Select(f => f.Id));
        // Replay from the beginning: the same events in the same (offset) order.
        Assert.Equal(liveFrames.Select(f => f.Id), replayFrames.Select(f => f.Id));
        // For the record: the naive cursor, polled throughout, typically missed some of them.
        Assert.True(naiveSeen.Count <= expected.Count);
    }

    /// <summary>
    /// Returns once the tail has completed a read that began after this call: the first read to
    /// complete may have begun before it, the one after that cannot have. No event announces a
    /// read that published nothing, so this polls the tail's read timestamp.
    /// </summary>
    private static async Task TailHasReadSinceAsync(ChangeLogTail tail)
    {
        var before = tail.LastReadTimestamp;
        await TaskTimeouts.UntilAsync(() => tail.LastReadTimestamp != before, because: "the tail did not read");
        var first = tail.LastReadTimestamp;
        await TaskTimeouts.UntilAsync(() => tail.LastReadTimestamp != first, because: "the tail did not read again");
    }

    private static string Id(SseFrame f) => f.Payload.GetProperty("id").GetString()!;

    private static async Task<List<SseFrame>> ReadUntilAsync(SseTestClient client, string sentinel)
    {
        var frames = new List<SseFrame>();
        while (true)
        {
            var f = await client.ReadEventAsync();
            if (Id(f) == sentinel) return frames;
            frames.Add(f);
        }
    }

    private async Task<OpenInsert> BeginInsertAsync(string project, int num)
    {
        var connection = await _db.DataSource.OpenConnectionAsync();
        var tx = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("INSERT INTO sessions (id, project_id, num) VALUES (@id, @project, @num)",
            new { id = $"{project}-{num}", project, num }, tx);
        return new OpenInsert(connection, tx);
    }

    private sealed class OpenInsert(NpgsqlConnection connection, NpgsqlTransaction tx) : IAsyncDisposable
    {
        public Task CommitAsync() => tx.CommitAsync();
        public async ValueTask DisposeAsync()
        {
            await tx.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    /// <summary>The reader this project must not be: a cursor on seq alone (what SQLite allowed upstream).</summary>
    private sealed class NaiveSeqCursor(NpgsqlDataSource dataSource)
    {
        private long _last = -1;

        public async Task<List<string>> ReadAsync()
        {
            await using var c = await dataSource.OpenConnectionAsync();
            if (_last < 0)
            {
                _last = await c.ExecuteScalarAsync<long?>("SELECT max(seq) FROM change_log") ?? 0;
                return [];
            }
            var rows = (await c.QueryAsync<(long seq, string id)>(
                "SELECT seq, payload->>'id' FROM change_log WHERE seq > @last ORDER BY seq", new { last = _last })).AsList();
            if (rows.Count > 0) _last = rows[^1].seq;
            return rows.Select(r => r.id).ToList();
        }
    }
}
