using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// A large tick is published at once and folded into the live state after it (migration 0020):
/// no stream waits for a fold. The fold of a 300,000-row load used to run inside its tick, and
/// every stream of every project waited for it (4.5 s of the 5.8 s other projects' events stalled
/// after such a load, bench/results/2026-12-04-bulk-load.md).
/// </summary>
public sealed class LargeTickFoldTests
{
    private const int LoadRows = 10_050; // more than a state read merges itself (LiveStateReader.PendingRows, 10,000)

    [Fact]
    public async Task While_no_fold_can_write_the_state_a_large_tick_and_the_events_after_it_still_stream_and_the_state_answers_as_of_the_ticks_it_holds()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await db.Writer.ProjectAsync("other");
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await db.Writer.SessionAsync("ao", 1);
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // in a tick
        await hub.Get<EventHub.State.LiveStateUpkeep>().FoldPendingAsync(); // and folded (the upkeep's pass, run now rather than waited for)
        await using var other = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=other");

        // A fold waits for this lock, a read does not. Before migration 0020 the large tick's fold
        // ran inside the tick and waited here, and no tick came after it: this read timed out. (Since
        // migration 0022 no tick folds; the state read reads the ticks after the state's mark itself
        // when they are few, and this load is too large for that.)
        await using var blocker = await db.DataSource.OpenConnectionAsync();
        await using var blocking = await blocker.BeginTransactionAsync();
        await blocker.ExecuteAsync("LOCK TABLE eventhub_state IN SHARE MODE", transaction: blocking);

        await db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'ao', 'session_created', jsonb_build_object('id', 'big-' || i) FROM generate_series(1, @rows) i
            """, new { rows = LoadRows });
        await db.Writer.SessionAsync("other", 1);
        var next = await other.ReadEventAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("other-1", next.Payload.GetProperty("id").GetString());

        // The state answers as of the ticks folded into it, exactly: without the load, and its offset
        // before the load, so the stream after it brings the load.
        var state = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        Assert.Equal(["[\"ao-1\"]"], Keys(state));
        await using (var after = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao", lastEventId: state.GetProperty("offset").GetString()))
            for (var i = 1; i <= LoadRows; i++)
                Assert.Equal($"big-{i}", (await after.ReadEventAsync()).Payload.GetProperty("id").GetString());

        // Once folds can write again, the hub's upkeep folds the ticks the state is behind.
        await blocking.RollbackAsync();
        JsonElement folded = default;
        await TaskTimeouts.UntilAsync(async () =>
        {
            folded = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao");
            return Keys(folded).Count == LoadRows + 1;
        }, TimeSpan.FromSeconds(30), "the load folded into the state");
        Assert.Equal(Enumerable.Range(1, LoadRows).Select(i => $"[\"big-{i}\"]").Append("[\"ao-1\"]").Order(StringComparer.Ordinal),
            Keys(folded).Order(StringComparer.Ordinal));
        // And its offset is the head's: nothing left to stream after it.
        var head = await http.GetFromJsonAsync<JsonElement>("/api/v1/events/head");
        Assert.Equal(head.GetProperty("offset").GetString(), folded.GetProperty("offset").GetString());
    }

    [Fact]
    public async Task Retention_folds_a_tick_into_the_state_before_it_prunes_the_ticks_rows()
    {
        // The hub's upkeep never folds here: only retention's pass can, and must, before the load's
        // rows go (an unkeyed type among them, whose count is folded the same way).
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Retention:MaxEvents"] = "5",
            ["Retention:Interval"] = "00:00:00.200",
            ["State:RebuildCheckInterval"] = "01:00:00",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'ao', 'session_created', jsonb_build_object('id', 'big-' || i) FROM generate_series(1, @rows) i
            UNION ALL SELECT 'ao', 'tracker_created', '{"issue": "I-1"}'
            """, new { rows = LoadRows });
        await TaskTimeouts.UntilAsync(async () => await db.ChangeLogCountAsync() <= 5, TimeSpan.FromSeconds(60), "retention pruned the load");

        var state = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        Assert.Equal(LoadRows, Keys(state).Count);
        Assert.Equal(["tracker_created"], state.GetProperty("unkeyedTypes").EnumerateArray().Select(t => t.GetString()));
    }

    private static List<string> Keys(JsonElement state) =>
        [.. state.GetProperty("entities").EnumerateArray().Select(e => e.GetProperty("key").GetRawText())];
}
