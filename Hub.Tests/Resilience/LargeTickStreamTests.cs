using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Resilience;

/// <summary>
/// Streams from offset 0 opened before, during and after a load of large transactions (ticks past
/// the hand-off size, past what a state read merges itself, larger than the recent-events window's reach and
/// than a subscriber's buffer) each get exactly the log, in its order: every path from catch-up to
/// live meets a tail that is reading big ticks (a lab stream from 0 opened after a 1,000,000-row
/// load once ended short; this is the bounded form of that run).
/// </summary>
public sealed class LargeTickStreamTests
{
    // Transaction sizes: handed over whole (300, 800), read back by the tail (past HandOffRows,
    // 1,000), too large for a state read to merge itself (past LiveStateReader.PendingRows, 10,000). 44,400 rows, more than the 20,000-event window.
    private static readonly int[] Transactions = [300, 5_000, 12_000, 800, 5_000, 12_000, 3_000, 500, 5_800];

    [Fact]
    public async Task Streams_from_zero_opened_before_during_and_after_a_load_of_large_ticks_get_exactly_the_log()
    {
        await using var db = await TestDatabase.CreateAsync();
        // A small buffer: the live streams overflow it during the load and fall back to the log.
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Stream:SubscriberBufferCapacity"] = "64" });

        var streams = new List<(string Query, Task<List<long>> Received)>();
        var total = Transactions.Sum();
        void Open(string query, int expectedCount) =>
            streams.Add((query, ReadSeqsAsync(hub.BaseAddress, query, expectedCount)));

        // Two streams with their response (subscribed, so live) before the load.
        var all0 = SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        var ao0 = SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&after=0");
        var before = new[] { (Query: "after=0", Client: await all0), (Query: "project=ao&after=0", Client: await ao0) };

        for (var t = 0; t < Transactions.Length; t++)
        {
            await db.Writer.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT CASE WHEN i % 2 = 0 THEN 'ao' ELSE 'web' END, 'bulk', jsonb_build_object('t', @t, 'i', i, 'pad', repeat('x', 100))
                FROM generate_series(1, @rows) i
                """, new { t, rows = Transactions[t] });
            // Right after a commit the tail is behind it: these catch up while it reads the tick.
            if (t is 1 or 2 or 5) Open("after=0", total);
            if (t is 4) Open("project=web&after=0", total / 2); // every transaction is of an even size: half each
        }
        Open("after=0", total);
        await db.Writer.ExecuteAsync("VACUUM ANALYZE change_log"); // the lab's failing run opened after this
        Open("after=0", total);
        Open("project=ao&after=0", total / 2);

        await using var check = await db.DataSource.OpenConnectionAsync();
        var log = (await check.QueryAsync<(long Seq, string Project)>(
            "SELECT seq, project_id FROM change_log WHERE event_type = 'bulk' ORDER BY eventhub_tick_of(tx_id), tx_id, seq")).ToList();
        Assert.Equal(total, log.Count);
        List<long> Expected(string query) => log
            .Where(r => !query.Contains("project=") || query.Contains($"project={r.Project}&"))
            .Select(r => r.Seq).ToList();

        foreach (var (query, client) in before)
            await using (client)
            {
                var expected = Expected(query);
                var received = new List<long>(expected.Count);
                while (received.Count < expected.Count)
                    received.Add((await client.ReadEventAsync(TimeSpan.FromSeconds(60))).Json.GetProperty("seq").GetInt64());
                Assert.Equal(expected, received);
            }
        foreach (var (query, received) in streams)
        {
            var expected = Expected(query);
            Assert.Equal(expected, await received.WaitAsync(TimeSpan.FromSeconds(120)));
        }
    }

    /// <summary>Opens a stream and reads <paramref name="count"/> events' seqs (each within 60 s of the last).</summary>
    private static async Task<List<long>> ReadSeqsAsync(Uri hub, string query, int count)
    {
        await using var sse = await SseTestClient.ConnectAsync(hub, query);
        var received = new List<long>(count);
        while (received.Count < count)
            received.Add((await sse.ReadEventAsync(TimeSpan.FromSeconds(60))).Json.GetProperty("seq").GetInt64());
        return received;
    }
}
