using System.Text.Json;
using EventHub.Log;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventHub.Tests.Operations;

/// <summary>
/// Head-offset calls each run several queries and may wait up to 2 s; a burst of them must not
/// become a burst of database work (issue 12, point 4).
/// </summary>
public sealed class HeadOffsetBoundTests
{
    [Fact]
    public async Task A_burst_of_concurrent_head_offset_calls_runs_one_computation_at_a_time_and_each_answer_covers_what_committed_before_it()
    {
        await using var db = await TestDatabase.CreateAsync();
        ObservedReader? reader = null;
        await using var hub = await HubServer.StartAsync(db.ConnectionString, ObservedReader.FollowerSettings, services: s => s.AddSingleton<IChangeLogReader>(sp =>
            reader = new ObservedReader(new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>()))));
        hub.Get<IChangeLogReader>();
        await db.Writer.SessionAsync("ao", 1);
        await db.Writer.ExecuteAsync("SELECT eventhub_make_tick()"); // this hub does not tick
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        var written = Offset.TryParse((await sse.ReadEventAsync()).Id!, out var parsed) ? parsed : throw new InvalidOperationException();
        var before = reader!.Ticks;

        const int calls = 100;
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var offsets = await Task.WhenAll(Enumerable.Range(0, calls).Select(async _ =>
        {
            var body = await http.GetStringAsync("/api/v1/events/head").WithTimeout(TimeSpan.FromSeconds(60));
            return JsonDocument.Parse(body).RootElement.GetProperty("offset").GetString()!;
        }));

        // Every answer is at or after the event committed before the calls began.
        foreach (var offset in offsets)
        {
            Assert.True(Offset.TryParse(offset, out var head), offset);
            Assert.True(head.Tick >= written.Tick, $"{offset} is before {written}");
        }
        // One computation in flight at a time (each takes two snapshots), shared by the callers
        // that arrived while it ran.
        Assert.Equal(1, reader.MaxTicksInFlight);
        Assert.True(reader.Ticks - before < calls, $"{reader.Ticks - before} head ticks for {calls} calls");
    }
}
