using System.Diagnostics;
using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using EventHub.Tests.Operations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Ticks;

/// <summary>
/// Cheap opens (issue 13, point 9): streams from now, or from an offset the window holds, cost no
/// database round trip, and the hub's database connections do not grow with its subscribers.
/// The previous core ran one snapshot query per "from now" open before its headers went out.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class OpenStormTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_thousand_streams_from_now_and_a_thousand_resumes_inside_the_window_open_without_a_query_each_and_on_a_bounded_number_of_connections()
    {
        await using var db = await TestDatabase.CreateAsync();
        for (var i = 1; i <= 50; i++) await db.Writer.SessionAsync("ao", i);
        ObservedReader? reader = null;
        var named = new NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = "EventHub-storm" }.ConnectionString;
        await using var hub = await HubServer.StartAsync(named,
            new Dictionary<string, string?> { ["Limits:MaxConnectionsPerAddress"] = "3000" }, // every test client comes from 127.0.0.1
            services: s => s.AddSingleton<IChangeLogReader>(sp => reader = new ObservedReader(new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>()))));
        hub.Get<IChangeLogReader>();
        List<SseFrame> written;
        await using (var all = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0"))
            written = await all.ReadEventsAsync(50);
        await TaskTimeouts.UntilAsync(() => hub.Get<Ticker>().IsLeader, because: "the only hub never took the ticker's lease");
        var ticksBefore = reader!.Ticks;
        var lookUpsBefore = reader.LookUps;

        var clock = Stopwatch.StartNew();
        var opens = await Task.WhenAll(Enumerable.Range(0, 2000).Select(async c =>
        {
            var client = c % 2 == 0
                ? await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao")                              // from now
                : await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao", lastEventId: written[c % 50].Id); // inside the window
            return (Client: client, HeadersAt: clock.Elapsed);
        }));
        var connections = await HubConnectionsAsync(db);
        output.WriteLine($"2,000 opens: the last headers after {opens.Max(o => o.HeadersAt).TotalMilliseconds:F0} ms; " +
            $"{connections} database connections of the hub; {reader.Ticks - ticksBefore} head ticks, {reader.LookUps - lookUpsBefore} offset look-ups");
        try
        {
            Assert.Equal(0, reader.Ticks - ticksBefore);     // "now" came from the ticker's own rounds
            Assert.Equal(0, reader.LookUps - lookUpsBefore); // offsets resolved from the window
            Assert.True(connections <= 12, $"the hub holds {connections} database connections for 2,000 streams");

            // And every stream is live.
            await db.Writer.SessionAsync("ao", 51);
            await Task.WhenAll(opens.Where((_, i) => i % 2 == 0).Select(async o =>
                Assert.Equal("ao-51", (await o.Client.ReadEventAsync(TimeSpan.FromSeconds(60))).Payload.GetProperty("id").GetString())));
        }
        finally
        {
            await Task.WhenAll(opens.Select(o => o.Client.DisposeAsync().AsTask()));
        }
    }

    private static async Task<long> HubConnectionsAsync(TestDatabase db)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        return await c.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'EventHub-storm%'");
    }
}
