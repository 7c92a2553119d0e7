using System.Net;
using System.Net.ServerSentEvents;
using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Operations;

/// <summary>
/// Catch-up pages are read by the catch-up reads' own few sessions (LogDataSources.SplitForCatchUps),
/// not by whichever idle session of the shared pool comes next: Npgsql hands idle connections out
/// first in, first out, so after a burst of opens a catch-up's pages went round dozens of cold
/// sessions, each parsing and planning the page read anew.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class CatchUpPoolTests(ITestOutputHelper output)
{
    private const int LogRows = 3_000;
    private const int CatchUpReads = 3;

    [Fact]
    public async Task After_a_burst_of_opens_left_the_shared_pool_full_of_idle_sessions_a_catch_up_reads_its_pages_with_its_own_few_sessions()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", LogRows);
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Stream:RecentEventsWindowSize"] = "0", // the catch-up reads the log
            ["Stream:CatchUpBatchSize"] = "100", // 30 pages
            ["Limits:MaxConcurrentCatchUps"] = CatchUpReads.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // What a burst of opens leaves behind: 20 idle sessions in the shared pool.
        var burst = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            var c = await hub.Get<NpgsqlDataSource>().OpenConnectionAsync();
            await c.ExecuteScalarAsync<int>("SELECT 1");
            return c;
        }));
        foreach (var c in burst) await c.DisposeAsync();

        using var http = new HttpClient { BaseAddress = hub.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        using var response = await http.GetAsync("/api/v1/events?project=bulk&after=0", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var parser = SseParser.Create(await response.Content.ReadAsStreamAsync(), static (_, _) => 0);
        var received = 0;
        await foreach (var item in parser.EnumerateAsync().WithCancellation(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token))
            if (item.EventId is not null && ++received == LogRows) break;
        Assert.Equal(LogRows, received);

        // The sessions whose last statement was a forward read (TickBatchSql.Forward; the tail reads with its own pool).
        await using var check = await db.DataSource.OpenConnectionAsync();
        var readers = (await check.QueryAsync<(string App, long Sessions)>("""
            SELECT application_name, count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%h.head_tick, h.last_tick%' AND application_name NOT LIKE '%tail'
            GROUP BY application_name
            """)).ToList();
        foreach (var r in readers) output.WriteLine($"'{r.App}': {r.Sessions} sessions last read a page");
        var pages = Assert.Single(readers);
        Assert.EndsWith("catch-up", pages.App);
        Assert.InRange(pages.Sessions, 1, CatchUpReads);
    }
}
