using System.Net;
using System.Net.ServerSentEvents;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Operations;

/// <summary>
/// Catch-ups from the beginning are the heaviest thing a client can ask for. However many there
/// are, live delivery to everyone else goes on, and every catch-up completes (issue 12, point 4).
/// </summary>
/// <remarks>
/// The fault guarded against is structural: the tail queued for a connection in the pool the
/// catch-ups read from, so with that pool busy no live event moved. The test makes the pool busy
/// deterministically (it holds every connection of the shared pool itself, as a burst of catch-up
/// queries would) rather than by CPU load and a latency bound: on 2 cores, CPU alone can delay a
/// live event by seconds, which says nothing about the fault (latency under catch-up load is the
/// bench's to measure). On the old core the live event never arrives while the pool is held.
/// </remarks>
[Collection(AloneCollection.Name)]
public sealed class CatchUpIsolationTests(ITestOutputHelper output)
{
    private const int LogRows = 2_000;
    private const int SharedPoolSize = 8;
    private const int CatchUpReads = 4;
    private const int CatchUps = 100;

    [Fact]
    public async Task While_the_shared_pool_is_exhausted_and_a_hundred_catch_ups_queue_for_it_a_live_event_reaches_a_live_subscriber_and_every_catch_up_then_completes()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", LogRows);
        // Queued opens wait (Timeout) rather than fail while the test holds the pool.
        var connectionString = new NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = SharedPoolSize, Timeout = 300 }.ConnectionString;
        await using var hub = await HubServer.StartAsync(connectionString, new Dictionary<string, string?>
        {
            ["Stream:RecentEventsWindowSize"] = "0", // every catch-up reads the log
            ["Limits:MaxConcurrentCatchUps"] = CatchUpReads.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Limits:MaxConnectionsPerAddress"] = "1000", // every test client comes from 127.0.0.1
        });
        await using var live = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=live");

        // Take every connection of the pool catch-ups read from (Maximum Pool Size: the catch-up
        // reads' own connections and the shared pool's, LogDataSources.SplitForCatchUps), as
        // catch-up queries in flight and a burst of opens would.
        var held = new List<NpgsqlConnection>();
        for (var i = 0; i < SharedPoolSize - CatchUpReads; i++) held.Add(await hub.Get<NpgsqlDataSource>().OpenConnectionAsync());
        for (var i = 0; i < CatchUpReads; i++)
            held.Add(await hub.Services.GetRequiredKeyedService<NpgsqlDataSource>(EventHub.Log.LogDataSources.CatchUpPages).OpenConnectionAsync());

        var received = new int[CatchUps];
        var done = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var catchUps = Enumerable.Range(0, CatchUps).Select(i => Task.Run(async () =>
        {
            await DrainAsync(hub.BaseAddress, "project=bulk&after=0", LogRows, n => Volatile.Write(ref received[i], n), stop.Token);
            Interlocked.Increment(ref done);
        })).ToArray();

        try
        {
            await db.Writer.SessionAsync("live", 1);
            // Bound only: the event needs no shared connection, so it arrives in milliseconds;
            // on a core whose tail shares the pool it waits for the release below, forever.
            var frame = await live.ReadEventAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("live-1", frame.Payload.GetProperty("id").GetString());
            Assert.Equal(0, Volatile.Read(ref done));
            Assert.All(received, n => Assert.Equal(0, n));
        }
        finally
        {
            foreach (var connection in held) await connection.DisposeAsync();
        }

        // Every catch-up completes, none is refused: they queue (four at a time) for the pool.
        await Task.WhenAll(catchUps).WaitAsync(TimeSpan.FromMinutes(5));
        Assert.All(received, n => Assert.Equal(LogRows, n));
        output.WriteLine($"{CatchUps} catch-ups of {LogRows} events completed");
    }

    /// <summary>
    /// Reads an SSE stream until <paramref name="count"/> events have arrived. The parsing is
    /// System.Net.ServerSentEvents'; its item parser here keeps nothing of the data (no string
    /// per event), so the many concurrent catch-ups stay cheap on the client's side of the 2 cores.
    /// </summary>
    private static async Task DrainAsync(Uri hub, string query, int count, Action<int> progress, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = hub, Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events?" + query);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var parser = SseParser.Create(await response.Content.ReadAsStreamAsync(cancellationToken), static (_, _) => 0);
        var n = 0;
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.EventId is not null) progress(++n);
            if (n == count) break;
        }
        Assert.Equal(count, n);
    }
}
