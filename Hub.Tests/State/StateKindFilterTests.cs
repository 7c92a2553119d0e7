using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.State;

/// <summary>
/// The state's type filter selects whole kinds (EntityKinds): with part of a kind (type=pr_updated
/// of the PR kind) the state holds an entity only while its latest event is of a selected type,
/// and no stream of those types can follow it: a client that loaded the state and streams kept a
/// PR after its pr_session_changed, one that loaded the state after it had none.
/// </summary>
public sealed class StateKindFilterTests
{
    private static readonly Dictionary<string, string?> TrackerKey = new()
    {
        ["State:EntityKeys:tracker_created:Kind"] = "tracker",
        ["State:EntityKeys:tracker_created:Fields:0"] = "issue",
        ["State:EntityKeys:tracker_updated:Kind"] = "tracker",
        ["State:EntityKeys:tracker_updated:Fields:0"] = "issue",
    };

    [Theory]
    [InlineData("type=pr_updated", "pr_updated is one of the pr kind's types (pr_created, pr_session_changed, pr_updated); name all of them, or pr_*.")]
    [InlineData("type=pr_created&type=pr_u*", "pr_created, pr_updated are some of the pr kind's types (pr_created, pr_session_changed, pr_updated)")]
    [InlineData("type=session_created&type=pr_*", "session_created is one of the session kind's types (session_created, session_updated); name all of them, or session_*.")]
    [InlineData("type=pr_review_thread_added", "of the thread kind's types (pr_review_thread_added, pr_review_thread_resolved); name all of them, or pr_review_thread_*.")]
    [InlineData("type=tracker_updated", "of the tracker kind's types (tracker_created, tracker_updated); name all of them, or tracker_*.")] // a configured kind
    public async Task A_state_request_that_selects_part_of_a_kind_is_refused_with_400_naming_the_kind_and_its_types_and_its_stream_is_not(
        string query, string says)
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TrackerKey);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        using var response = await http.GetAsync("/api/v1/state?project=ao&" + query).WithTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(ErrorCodes.InvalidType, error.GetProperty("code").GetString());
        Assert.StartsWith("The state's type filter selects whole kinds: ", error.GetProperty("message").GetString());
        Assert.Contains(says, error.GetProperty("message").GetString());

        // The stream of the same filter is not constrained.
        await using var stream = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&" + query);
    }

    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task GetState_and_StreamState_refuse_part_of_a_kind_with_a_HubException_and_the_connection_goes_on(WireProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress, protocol);
        var partial = new StreamEventsRequest { Projects = ["ao"], Types = ["pr_updated"] };

        var got = await Assert.ThrowsAsync<HubException>(() =>
            client.Connection.InvokeAsync<LiveState>(EventHubMethods.GetState, partial).WithTimeout());
        // SignalR puts its own words before the hub's ("An unexpected error occurred invoking 'GetState' on the server. HubException: …").
        Assert.Contains($"HubException: {ErrorCodes.InvalidType}: The state's type filter selects whole kinds: pr_updated is one of the pr kind's types", got.Message);

        var streamed = await Assert.ThrowsAsync<HubException>(async () =>
        {
            await foreach (var _ in client.Connection.StreamAsync<LiveStatePage>(EventHubMethods.StreamState, partial).WithCancellation(
                               new CancellationTokenSource(TaskTimeouts.Default).Token)) { }
        });
        Assert.Contains($"HubException: {ErrorCodes.InvalidType}: The state's type filter selects whole kinds: pr_updated", streamed.Message);

        var whole = await client.Connection.InvokeAsync<LiveState>(EventHubMethods.GetState,
            new StreamEventsRequest { Projects = ["ao"], Types = ["pr_created", "pr_updated", "pr_session_changed"] }).WithTimeout();
        Assert.NotNull(whole.Offset);
    }

    [Theory]
    [InlineData("type=pr_created&type=pr_updated&type=pr_session_changed")]
    [InlineData("type=pr_*")]
    [InlineData("type=session_*&type=pr_check_recorded")] // a kind of one type
    [InlineData("type=tracker_*")] // a configured kind, whole
    [InlineData("type=deploy_done&type=session_created&type=session_updated")] // unkeyed types are not constrained
    [InlineData("")]
    public async Task Whole_kinds_named_or_by_prefix_and_unkeyed_types_are_accepted(string query)
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TrackerKey);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        using var response = await http.GetAsync("/api/v1/state?project=ao&" + query).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task With_a_whole_kind_the_state_at_one_offset_plus_the_stream_after_it_is_the_state_at_a_later_one_across_a_pr_session_change()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var session = await db.Writer.SessionAsync("ao", 1);
        var other = await db.Writer.SessionAsync("ao", 2);
        var pr = await db.Writer.PrAsync(session, 1);
        await db.Writer.PrStateAsync(pr, "failing", "none", "mergeable");
        await db.Writer.CheckAsync(pr, "build", "c1", "failed"); // another kind: not selected
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // every write above is in a tick
        const string prKind = "type=pr_created&type=pr_updated&type=pr_session_changed";

        var first = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao&" + prKind).WithTimeout();
        var held = Entities(first);
        Assert.Equal(["pr_updated"], held.Values.Select(e => e.Type));
        var keys = first.GetProperty("entityKeys");
        await using var after = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&" + prKind,
            lastEventId: first.GetProperty("offset").GetString());

        await db.Writer.PrSessionAsync(pr, other);
        await db.Writer.PrAsync(other, 2);
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var e = (await after.ReadEventAsync()).Json;
            var key = keys.GetProperty(e.GetProperty("type").GetString()!);
            var payload = e.GetProperty("payload");
            var entity = $"{key.GetProperty("kind").GetString()} " +
                JsonSerializer.Serialize(key.GetProperty("fields").EnumerateArray().Select(f => payload.GetProperty(f.GetString()!)));
            if (!held.TryGetValue(entity, out var was) || was.Seq < e.GetProperty("seq").GetInt64())
                held[entity] = (e.GetProperty("seq").GetInt64(), e.GetProperty("type").GetString()!);
        }

        var later = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao&" + prKind).WithTimeout();
        Assert.Equal(held.OrderBy(e => e.Key, StringComparer.Ordinal), Entities(later).OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(["pr_created", "pr_session_changed"], held.Values.Select(e => e.Type).Order(StringComparer.Ordinal));
    }

    private static Dictionary<string, (long Seq, string Type)> Entities(JsonElement state) =>
        state.GetProperty("entities").EnumerateArray().ToDictionary(
            e => $"{e.GetProperty("kind").GetString()} {e.GetProperty("key").GetRawText()}",
            e => (e.GetProperty("event").GetProperty("seq").GetInt64(), e.GetProperty("event").GetProperty("type").GetString()!));
}
