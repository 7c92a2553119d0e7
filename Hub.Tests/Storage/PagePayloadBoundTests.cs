using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Storage;

/// <summary>
/// A forward read holds its limit's payload bound (<see cref="PageLimit"/>) whatever its rows'
/// sizes: it stops before the row that would take its payloads past the bound (keeping at least
/// one), says it is not complete, and the next read continues at the row it stopped before.
/// </summary>
public sealed class PagePayloadBoundTests
{
    [Theory]
    [InlineData(false)] // catch-ups' reader
    [InlineData(true)]  // the tail's: the statement bounds the payloads too
    public async Task Reads_stop_at_their_payload_bound_and_together_return_every_row_once_in_order(bool boundPayloadsInDatabase)
    {
        await using var db = await TestDatabase.CreateAsync();
        // One tick of 40 rows: small payloads, and every seventh one of 5,000 bytes (over the bound alone).
        await using (var c = await db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT 'p', 'doc_updated', jsonb_build_object('n', g, 'body', repeat('x', CASE WHEN g % 7 = 0 THEN 5000 ELSE 300 END))
                FROM generate_series(1, 40) g
                """);
            await c.ExecuteAsync("SELECT eventhub_make_tick()");
        }
        await using var sessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "page-bound-test");
        var reader = new ChangeLogReader(sessions, boundPayloadsInDatabase: boundPayloadsInDatabase);
        var limit = new PageLimit(1000, 1000);

        var seen = new List<LogEvent>();
        var position = LogPosition.Start;
        var reads = 0;
        while (true)
        {
            var batch = await reader.ReadAsync(position, EventFilter.All, limit);
            reads++;
            Assert.True(reads < 100, "the reads never finished");
            Assert.NotEmpty(batch.Events);
            var bytes = batch.Events.Sum(e => (long)e.PayloadSize);
            // Within the bound, or one row alone that is larger than it.
            Assert.True(bytes <= limit.PayloadBytes || batch.Events.Count == 1, $"a page of {batch.Events.Count} rows held {bytes} bytes");
            if (!batch.Complete)
            {
                Assert.Equal(batch.Events[^1].Position, batch.Through);
                // Cut where the next row would have passed the bound.
                Assert.True(batch.Events.Count < 40);
            }
            seen.AddRange(batch.Events);
            position = batch.Through;
            if (batch.Complete) break;
        }

        Assert.Equal(Enumerable.Range(1, 40), seen.Select(e => JsonNumber(e, "n")));
        Assert.Equal(seen.Select(e => e.Position).Order(), seen.Select(e => e.Position));
        Assert.Contains(seen, e => e.PayloadSize > limit.PayloadBytes); // the large rows came, each alone
        Assert.True(reads >= 10, $"{reads} reads"); // about three small rows a read, and each large row alone
    }

    [Fact]
    public async Task The_database_sends_the_rows_past_the_bound_without_their_payloads_and_fetches_none_of_them()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        // 40 payloads of ~20 KB that do not compress: each stored out of line, in TOAST.
        await ToastedPayloads.InsertAsync(c, 40, 20_000);
        await c.ExecuteAsync("SELECT eventhub_make_tick()");

        // The tail reader's statement, in this session (whose statistics it can flush).
        async Task<(List<string?> Payloads, long ToastBlocks)> PageAsync(long bytes)
        {
            var before = await ToastedPayloads.BlocksReadAsync(c);
            var payloads = (await c.QueryAsync<string?>($"SELECT payload FROM ({TickBatchSql.Forward(EventFilter.All, boundPayloads: true)}) p",
                new { tick = 0L, x = "0", s = 0L, limit = 1000, bytes })).ToList();
            return (payloads, await ToastedPayloads.BlocksReadAsync(c) - before);
        }

        var whole = await PageAsync(long.MaxValue);
        var bounded = await PageAsync(50_000);

        Assert.Equal(40, whole.Payloads.Count(p => p is not null));
        // Every row comes (the reader checks the page's order over all of them); past ~50 KB as
        // stored, without its payload.
        Assert.Equal(40, bounded.Payloads.Count);
        Assert.Equal(3, bounded.Payloads.TakeWhile(p => p is not null).Count());
        Assert.All(bounded.Payloads.Skip(3), p => Assert.Null(p));
        Assert.True(bounded.ToastBlocks * 5 < whole.ToastBlocks,
            $"the bounded page read {bounded.ToastBlocks} TOAST blocks, the whole one {whole.ToastBlocks}");
    }

    private static int JsonNumber(LogEvent e, string name) =>
        System.Text.Json.JsonDocument.Parse(e.Payload).RootElement.GetProperty(name).GetInt32();
}
