using System.Net.Http.Json;
using System.Text.Json;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// The live state keys streamed events as the hub keys its state: by the answer's entityKeys (a
/// kind the hub's configuration adds included), with key values the JSON writers could spell
/// differently (non-ASCII, HTML characters, quotes, a missing field), over both protocols.
/// </summary>
public sealed class LiveStateKeyTests
{
    private const string OddSession = "ao-é<&>\"'\u2028ü";
    private const string OddIssue = "I-ü/<1>&";

    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task Streamed_events_land_on_the_entities_of_the_loaded_state_for_configured_kinds_and_odd_key_values(EventHubProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync($"keys_{protocol}");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["State:EntityKeys:tracker_updated:Kind"] = "tracker",
            ["State:EntityKeys:tracker_updated:Fields:0"] = "issue",
        });
        await db.Writer.ProjectAsync("ao");
        await db.Writer.ExecuteAsync("INSERT INTO sessions (id, project_id, num) VALUES (@id, 'ao', 1)", new { id = OddSession });
        await db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload) VALUES
                ('ao', 'tracker_created', jsonb_build_object('issue', @issue)),
                ('ao', 'tracker_updated', jsonb_build_object('issue', @issue, 'state', 'open')),
                ('ao', 'tracker_updated', '{"state":"no issue"}')
            """, new { issue = OddIssue });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // every write above is in a tick

        await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = hub.BaseAddress, Projects = ["ao"], Protocol = protocol });
        var live = new EventHubLiveState(client);
        await using var recorder = new LiveStateRecorder(live);
        var loaded = await recorder.WaitForAsync(c => c.Kind == LiveStateChangeKind.Loaded);
        Assert.Equal(3, loaded.State.Count);
        Assert.Equal(["tracker_created"], loaded.State.UnkeyedTypes);
        Assert.IsType<SessionCreated>(loaded.State.Session("ao", OddSession));

        // After the load: each event lands on an entity the state already holds.
        await db.Writer.SessionActivityAsync(OddSession, "idle");
        await db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload) VALUES
                ('ao', 'tracker_created', jsonb_build_object('issue', 'I-2')),
                ('ao', 'tracker_updated', jsonb_build_object('issue', @issue, 'state', 'closed')),
                ('ao', 'tracker_updated', '{"state":"still no issue"}')
            """, new { issue = OddIssue });
        await recorder.WaitForAppliedAsync(3);

        var state = live.Current;
        Assert.Equal(3, state.Count);
        var session = Assert.IsType<SessionUpdated>(state.Session("ao", OddSession));
        Assert.Equal("idle", session.Activity);
        var trackers = state.OfKind("tracker");
        Assert.Equal(2, trackers.Count);
        Assert.Equal("closed", trackers[LiveEntityId.Of("ao", "tracker", OddIssue)].Payload.GetProperty("state").GetString());
        Assert.Equal("still no issue", trackers[LiveEntityId.Of("ao", "tracker", [null])].Payload.GetProperty("state").GetString());
        Assert.Same(state.OfKind("tracker"), trackers);
        Assert.Equal(1, live.Loads);

        // The same as the hub's own state now: exactly (kind, key text, event) by the hub method,
        // and the same JSON keys over HTTP.
        var viaHub = await client.GetStateAsync().WithTimeout();
        Assert.Equal(viaHub.Entities.Select(e => (e.Kind, e.Key, e.Event.Seq)).Order(), state.Entities.Select(e => (e.Key.Kind, e.Key.Key, e.Value.Seq)).Order());
        var overHttp = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        Assert.Equal(
            overHttp.GetProperty("entities").EnumerateArray()
                .Select(e => (e.GetProperty("kind").GetString()!, Normal(e.GetProperty("key").GetRawText()), e.GetProperty("event").GetProperty("seq").GetInt64()))
                .Order(),
            state.Entities.Select(e => (e.Key.Kind, Normal(e.Key.Key), e.Value.Seq)).Order());
    }

    private static string Normal(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);

    [Fact]
    public async Task A_request_the_hub_rejects_ends_the_live_state_with_its_code()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = hub.BaseAddress, Projects = [""] });

        var direct = await Assert.ThrowsAsync<EventHubRequestException>(() => client.GetStateAsync().WithTimeout());
        Assert.Equal("invalid_project", direct.Code);

        await using var recorder = new LiveStateRecorder(new EventHubLiveState(client));
        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => recorder.Completion.WithTimeout());
        Assert.Equal("invalid_project", error.Code);
        Assert.Empty(recorder.All);
    }
}
