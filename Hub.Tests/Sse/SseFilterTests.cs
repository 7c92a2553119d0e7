using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Sse;

/// <summary>
/// Project and type filters never leak. Absence is proven without waiting: a forbidden event is
/// written first, then an allowed sentinel; the next event the client gets must be the sentinel.
/// </summary>
public sealed class SseFilterTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private HubServer _hub = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(SseFilterTests));
        _hub = await HubServer.StartAsync(_db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_project_filter_never_delivers_another_projects_events_live_or_in_catch_up()
    {
        await _db.Writer.SessionAsync("other", 1);
        await _db.Writer.SessionAsync("ao", 1);
        await using var live = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");
        await using var catchUp = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao&after=0");

        await _db.Writer.SessionAsync("other", 2);   // forbidden
        await _db.Writer.SessionAsync("ao", 2);      // sentinel

        Assert.Equal("ao-2", (await live.ReadEventAsync()).Payload.GetProperty("id").GetString());
        var replayed = await catchUp.ReadEventsAsync(2);
        Assert.Equal(["ao-1", "ao-2"], replayed.Select(f => f.Payload.GetProperty("id").GetString()));
        Assert.All(replayed, f => Assert.Equal("ao", f.ProjectId));
    }

    [Fact]
    public async Task Several_projects_can_be_requested_and_others_stay_out()
    {
        await using var sse = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao&project=web");
        await _db.Writer.SessionAsync("ao", 1);
        await _db.Writer.SessionAsync("infra", 1); // forbidden
        await _db.Writer.SessionAsync("web", 1);
        var frames = await sse.ReadEventsAsync(2);
        Assert.Equal(["ao", "web"], frames.Select(f => f.ProjectId));
    }

    [Fact]
    public async Task A_type_filter_with_exact_names_and_a_prefix_delivers_only_those_types()
    {
        var session = await _db.Writer.SessionAsync("ao", 1);
        await using var prOnly = await SseTestClient.ConnectAsync(_hub.BaseAddress, "type=pr_*");
        await using var exact = await SseTestClient.ConnectAsync(_hub.BaseAddress, "type=session_updated&type=pr_check_recorded");

        await _db.Writer.SessionActivityAsync(session, "idle");            // session_updated
        var pr = await _db.Writer.PrAsync(session, 1);                       // pr_created
        await _db.Writer.CheckAsync(pr, "build", "c1", "passed");           // pr_check_recorded

        Assert.Equal(["pr_created", "pr_check_recorded"], (await prOnly.ReadEventsAsync(2)).Select(f => f.Event));
        Assert.Equal(["session_updated", "pr_check_recorded"], (await exact.ReadEventsAsync(2)).Select(f => f.Event));

        // Catch-up applies the same filter.
        await using var replay = await SseTestClient.ConnectAsync(_hub.BaseAddress, "type=pr_*&after=0");
        Assert.Equal(["pr_created", "pr_check_recorded"], (await replay.ReadEventsAsync(2)).Select(f => f.Event));
    }

    [Fact]
    public async Task The_underscore_in_a_prefix_is_literal()
    {
        // "pr_*" must not match "prXcreated": a LIKE-based filter would treat '_' as a wildcard.
        await _db.Writer.ProjectAsync("ao");
        await _db.Writer.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('ao', 'prXcreated', '{}')");
        await _db.Writer.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('ao', 'pr_created', '{}')");
        await using var replay = await SseTestClient.ConnectAsync(_hub.BaseAddress, "type=pr_*&after=0");
        Assert.Equal("pr_created", (await replay.ReadEventAsync()).Event);
    }

    [Fact]
    public async Task With_unnamed_true_every_event_frame_has_no_event_line_so_an_EventSource_dispatches_each_as_a_message()
    {
        // An EventSource dispatches a named frame only to a listener for that name: a browser
        // reading every type (future ones included) needs frames without the event line.
        await _db.Writer.ProjectAsync("ao");
        await _db.Writer.SessionAsync("ao", 1);
        await _db.Writer.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES ('ao', 'tracker_issue_opened', '{\"issue\": 35}')");
        using var http = new HttpClient { BaseAddress = _hub.BaseAddress };
        using var response = await http.GetAsync("/api/v1/events?project=ao&after=0&unnamed=true", HttpCompletionOption.ResponseHeadersRead).WithTimeout();
        var body = await response.Content.ReadAsStreamAsync();
        var text = new System.Text.StringBuilder();
        var buffer = new byte[4096];
        List<string[]> Blocks() => text.ToString().Split("\n\n").SkipLast(1).Select(b => b.Split('\n'))
            .Where(lines => lines.Any(l => l.StartsWith("data:", StringComparison.Ordinal))).ToList();
        while (Blocks().Count < 2)
        {
            var read = await body.ReadAsync(buffer).AsTask().WithTimeout();
            Assert.NotEqual(0, read);
            text.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, read));
        }
        var blocks = Blocks();
        Assert.All(blocks, lines => Assert.DoesNotContain(lines, l => l.StartsWith("event", StringComparison.Ordinal)));
        var events = blocks.Select(lines => (
            Id: Assert.Single(lines, l => l.StartsWith("id: ", StringComparison.Ordinal))["id: ".Length..],
            Json: System.Text.Json.JsonDocument.Parse(Assert.Single(lines, l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..]).RootElement)).ToList();
        Assert.Equal(["session_created", "tracker_issue_opened"], events.Select(e => e.Json.GetProperty("type").GetString()));
        Assert.All(events, e => Assert.Equal(e.Id, e.Json.GetProperty("offset").GetString()));

        // Without the parameter (or with false), the same frames are named.
        await using var named = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao&after=0&unnamed=false");
        Assert.Equal(["session_created", "tracker_issue_opened"], (await named.ReadEventsAsync(2)).Select(f => f.Event));
    }

    [Fact]
    public async Task Unknown_future_event_types_pass_through_untouched()
    {
        await _db.Writer.ProjectAsync("ao");
        await using var sse = await SseTestClient.ConnectAsync(_hub.BaseAddress, "project=ao");
        await _db.Writer.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload) VALUES ('ao', 'tracker_issue_opened', '{"issue": 35, "nested": {"a": [1, 2]}}')
            """);
        var frame = await sse.ReadEventAsync();
        Assert.Equal("tracker_issue_opened", frame.Event);
        Assert.Equal(35, frame.Payload.GetProperty("issue").GetInt32());
        Assert.Equal(2, frame.Payload.GetProperty("nested").GetProperty("a")[1].GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, frame.Json.GetProperty("sessionId").ValueKind);
    }
}
