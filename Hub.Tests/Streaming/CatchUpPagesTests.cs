using EventHub.Log;
using EventHub.Streaming;
using EventHub.Streaming.Internal;
using EventHub.Tests.Operations;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventHub.Tests.Streaming;

/// <summary>
/// Catch-up pages are bounded by their payloads' size as well as by rows
/// (<c>Stream:CatchUpPagePayloadBytes</c>): a log of large payloads is read in fewer rows a page,
/// and nothing is lost or repeated across the smaller pages.
/// </summary>
public sealed class CatchUpPagesTests
{
    [Theory]
    [InlineData(0, 1000)]          // nothing known: the row bound
    [InlineData(200, 1000)]        // the contract's payloads: the row bound
    [InlineData(4096, 1000)]
    [InlineData(10_000, 419)]      // 4 MiB / 10,000
    [InlineData(100_000_000, 1)]   // at least one row
    public void A_page_takes_the_rows_its_payload_aim_holds_within_the_row_bound(double averagePayloadSize, int rows) =>
        Assert.Equal(rows, PageLimit.For(new StreamOptions().CatchUpBatchSize, new StreamOptions().CatchUpPagePayloadBytes, averagePayloadSize).Rows);

    [Fact]
    public async Task A_page_holds_its_payload_bound_even_when_the_payloads_before_it_were_smaller()
    {
        // The window holds the small last event: the first page is sized for small payloads.
        var (hub, reader) = HubWithTenKilobytePages();
        await using var _ = hub;
        var written = Enumerable.Range(0, 60).Select(i => hub.Append("ao", "doc_updated", new { i, body = new string('x', 3000) })).ToList();
        written.Add(hub.Append("ao", "doc_updated", new { i = 60 }));
        await hub.StartAsync();

        Assert.Equal(written.Select(e => e.Seq), await ReadFromTheStartAsync(hub, written.Count));
        var pages = reader.Limits.Zip(reader.PayloadsReturned).Where(p => p.First != 777).Select(p => p.Second).ToList();
        Assert.True(reader.Limits.First(l => l != 777) > 60, "the first page was sized for the window's small payload");
        Assert.All(pages, bytes => Assert.InRange(bytes, 0, 10_000)); // three ~3 KB payloads a page, not sixty
    }

    [Fact]
    public async Task A_catch_up_over_large_payloads_reads_small_pages_and_delivers_every_event_once_in_order()
    {
        // The window holds the last event: the first page is sized by it.
        var (hub, reader) = HubWithTenKilobytePages();
        await using var _ = hub;
        // Written before the tail starts: all of them are behind the head a stream opens at.
        var written = Enumerable.Range(0, 100).Select(i => hub.Append("ao", "doc_updated", new { i, body = new string('x', 1000) })).ToList();
        await hub.StartAsync();

        Assert.Equal(written.Select(e => e.Seq), await ReadFromTheStartAsync(hub, written.Count));
        var pages = reader.Limits.Where(l => l != 777).ToList();
        Assert.True(pages.Count >= 10, $"{pages.Count} catch-up reads");
        Assert.All(pages, rows => Assert.InRange(rows, 1, 10)); // ~1,020-byte payloads, a 10,000-byte aim
    }

    /// <summary>
    /// An in-memory hub whose catch-ups read the log (a window of one event) in pages aimed at
    /// 10,000 bytes of payload, and the reader that counts their reads (the tail's, of 777 rows, told apart).
    /// </summary>
    private static (InMemoryHub Hub, CountingReader Reader) HubWithTenKilobytePages()
    {
        CountingReader reader = null!;
        var hub = new InMemoryHub(o =>
        {
            o.RecentEventsWindowSize = 1;
            o.CatchUpPagePayloadBytes = 10_000;
            o.TailBatchSize = 777;
        }, wrapReader: log => reader = new CountingReader(log));
        return (hub, reader);
    }

    /// <summary>The seqs of the first <paramref name="count"/> events of a stream of project ao from the log's start.</summary>
    private static async Task<List<long>> ReadFromTheStartAsync(InMemoryHub hub, int count)
    {
        await using var stream = await hub.Source.OpenAsync(new StreamRequest(["ao"], [], Offset.Beginning));
        await using var events = stream.ReadAllAsync().GetAsyncEnumerator();
        var seen = new List<long>();
        while (seen.Count < count)
        {
            Assert.True(await events.MoveNextAsync().WithTimeout());
            seen.Add(events.Current.Seq);
        }
        return seen;
    }

    [Fact]
    public async Task Through_a_hub_on_PostgreSQL_a_catch_up_reads_pages_of_the_rows_its_payload_aim_holds()
    {
        await using var db = await TestDatabase.CreateAsync();
        for (var i = 1; i <= 30; i++) await db.Writer.SessionAsync("ao", i);
        CountingReader? reader = null;
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Stream:RecentEventsWindowSize"] = "1", // the catch-up reads the log; its first page is sized by this one event
            ["Stream:CatchUpPagePayloadBytes"] = "600", // session_created's payloads are ~60 bytes
            ["CatchUpWarmUp:Events"] = "0",
        }, services: s => s.AddKeyedSingleton<IChangeLogReader>(LogReaders.CatchUp, (sp, _) =>
            reader = new CountingReader(new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>()))));

        // The head offset: once the hub has published the 30 events, so that they are behind
        // the head the stream opens at and come from the log, not live.
        using (var http = new HttpClient { BaseAddress = hub.BaseAddress })
            await http.GetStringAsync("/api/v1/events/head").WithTimeout();
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&after=0");
        var frames = await sse.ReadEventsAsync(30);

        Assert.Equal(Enumerable.Range(1, 30).Select(i => $"ao-{i}"), frames.Select(f => f.Payload.GetProperty("id").GetString()));
        Assert.Equal(frames.Count, frames.Select(f => f.Id).Distinct().Count());
        Assert.NotNull(reader);
        Assert.True(reader.Limits.Count >= 3, $"{reader.Limits.Count} catch-up reads");
        Assert.All(reader.Limits, rows => Assert.InRange(rows, 1, 12));
    }
}
