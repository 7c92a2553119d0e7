using System.Text.Json;
using Dapper;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Contracts;

namespace EventHub.Client.Tests;

public sealed partial class EventHubClientTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task Each_of_the_eight_event_types_arrives_as_its_typed_event(EventHubProtocol protocol)
    {
        var p = fixture.NewProject("ao");
        await using var reader = new ClientReader(NewClient(p, protocol));
        var w = Writer;
        var s1 = await w.SessionAsync(p, 1);
        var s2 = await w.SessionAsync(p, 2);
        await w.SessionActivityAsync(s1, "waiting_input", terminated: true);
        var pr = await w.PrAsync(s1, 7);
        await w.PrStateAsync(pr, ci: "passing", review: "approved", mergeability: "mergeable");
        await w.PrSessionAsync(pr, s2);
        await w.CheckAsync(pr, "build", "abc123", "passed");
        await w.ThreadAsync(pr, "T1", "src/a.cs", 42, isBot: true);
        await w.ResolveThreadAsync(pr, "T1");

        var events = await reader.ReadAsync(9);

        var created = Assert.IsType<SessionCreated>(events[0]);
        Assert.Equal((s1, "active", false, p, s1), (created.Id, created.Activity, created.IsTerminated, created.ProjectId, created.SessionId));
        Assert.Equal(s2, Assert.IsType<SessionCreated>(events[1]).Id);
        var updated = Assert.IsType<SessionUpdated>(events[2]);
        Assert.Equal((s1, "waiting_input", true), (updated.Id, updated.Activity, updated.IsTerminated));

        var prCreated = Assert.IsType<PrCreated>(events[3]);
        Assert.Equal((pr, s1, "open", "pending", "none", "unknown"),
            (prCreated.Url, prCreated.Session, prCreated.State, prCreated.Ci, prCreated.Review, prCreated.Mergeability));
        var prUpdated = Assert.IsType<PrUpdated>(events[4]);
        Assert.Equal((pr, s1, "open", "passing", "approved", "mergeable"),
            (prUpdated.Url, prUpdated.Session, prUpdated.State, prUpdated.Ci, prUpdated.Review, prUpdated.Mergeability));

        var moved = Assert.IsType<PrSessionChanged>(events[5]);
        Assert.Equal((pr, s1, s2, s2), (moved.Url, moved.FromSession, moved.ToSession, moved.SessionId));
        var check = Assert.IsType<PrCheckRecorded>(events[6]);
        Assert.Equal((pr, "build", "abc123", "passed"), (check.Pr, check.Name, check.Commit, check.Status));
        var thread = Assert.IsType<PrReviewThreadAdded>(events[7]);
        Assert.Equal((pr, "T1", "src/a.cs", (int?)42, false, true),
            (thread.Pr, thread.Thread, thread.Path, thread.Line, thread.Resolved, thread.IsBot));
        var resolved = Assert.IsType<PrReviewThreadResolved>(events[8]);
        Assert.Equal((pr, "T1", "src/a.cs", (int?)42, true), (resolved.Pr, resolved.Thread, resolved.Path, resolved.Line, resolved.Resolved));

        Assert.Equal(EventTypes.All.Order(), events.Select(e => e.Type).Distinct().Order());
        Assert.All(events, e =>
        {
            Assert.Equal(p, e.ProjectId);
            Assert.Equal(JsonValueKind.Object, e.Payload.ValueKind); // the raw payload stays available
            Assert.Equal(TimeSpan.Zero, e.CreatedAt.Offset);
            Assert.False(string.IsNullOrEmpty(e.Offset));
        });

        // The way a consumer reaches them: one switch over the stream.
        var summary = events.Select(e => e switch
        {
            PrUpdated u => $"ci={u.Ci}",
            PrStateEvent s => $"pr {s.State}",
            SessionEvent s => s.Activity,
            _ => e.Type,
        });
        Assert.Equal(["active", "active", "waiting_input", "pr open", "ci=passing", EventTypes.PrSessionChanged,
            EventTypes.PrCheckRecorded, EventTypes.PrReviewThreadAdded, EventTypes.PrReviewThreadResolved], summary);
    }

    [Fact]
    public async Task An_unknown_type_passes_through_with_its_raw_payload_and_a_malformed_known_one_does_not_throw()
    {
        var p = fixture.NewProject("future");
        await using var reader = new ClientReader(NewClient(p, EventHubProtocol.MessagePack));
        await using (var c = await fixture.Db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("""
                INSERT INTO change_log (project_id, session_id, event_type, payload) VALUES
                  (@p, NULL, 'tracker_issue_opened', '{"issue":"ENG-1","labels":["bug"],"meta":{"n":1}}'),
                  (@p, NULL, 'pr_updated', '{"url":7,"ci":["not","a","string"]}')
                """, new { p });
        }

        var events = await reader.ReadAsync(2);

        var future = events[0];
        Assert.IsNotAssignableFrom<TypedChangeEvent>(future);
        Assert.Equal(("tracker_issue_opened", (string?)null), (future.Type, future.SessionId));
        Assert.True(JsonElement.DeepEquals(
            JsonDocument.Parse("""{"issue":"ENG-1","labels":["bug"],"meta":{"n":1}}""").RootElement, future.Payload));

        var odd = Assert.IsType<PrUpdated>(events[1]);
        Assert.Equal(("7", "", ""), (odd.Url, odd.Ci, odd.Review));
        Assert.Equal(JsonValueKind.Array, odd.Payload.GetProperty("ci").ValueKind);
    }
}
