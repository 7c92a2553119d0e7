using EventHub.SignalR;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

public sealed partial class AuthTests
{
    public enum IsolationPath { Live, CatchUp, ResumeFromAnotherProjectsOffset, GroupNotices }

    public static TheoryData<Transport, bool, IsolationPath> IsolationMatrix()
    {
        var data = new TheoryData<Transport, bool, IsolationPath>();
        foreach (var transport in Enum.GetValues<Transport>())
            foreach (var token in new[] { false, true })
                foreach (var path in Enum.GetValues<IsolationPath>())
                    if (path != IsolationPath.GroupNotices || transport != Transport.Sse) // SSE has no groups
                        data.Add(transport, token, path);
        return data;
    }

    /// <summary>
    /// The isolation matrix. Project b is busy on every path; a client entitled to project a alone
    /// must never receive a byte of b. In open mode the client asks for a; in token mode its token
    /// lists only a and it asks for every project (the widest request a client can make). Each
    /// case ends on a sentinel of a written after b's events, so "nothing of b" is observed, not
    /// assumed: b's events, had they leaked, would have come first.
    /// </summary>
    [Theory]
    [MemberData(nameof(IsolationMatrix))]
    public async Task A_client_of_project_a_never_receives_an_event_of_project_b(Transport transport, bool tokenMode, IsolationPath path)
    {
        var a = fixture.NewProject("a");
        var b = fixture.NewProject("b");
        var token = tokenMode ? TestTokens.Mint([a]) : null;
        var request = tokenMode ? null : new[] { a };
        var hub = fixture.Hub(tokenMode);

        switch (path)
        {
            case IsolationPath.Live:
            {
                // From now: SSE has opened when the response starts; SignalR once a is joined.
                await using var probe = await OpenAsync(transport, tokenMode, token, request, after: null, waitForGroupOf: a);
                await Writer.SessionAsync(b, 1);
                await Writer.SessionAsync(a, 1);
                await Writer.SessionAsync(b, 2);
                await Writer.SessionAsync(a, 2);
                await Writer.SessionAsync(b, 3);
                await Writer.SessionAsync(a, 3);
                AssertOnlyA(await ReadAsync(probe, 3), a, 1, 2, 3);
                break;
            }
            case IsolationPath.CatchUp:
            {
                await Writer.SessionAsync(b, 1);
                await Writer.SessionAsync(a, 1);
                await Writer.SessionAsync(b, 2);
                await Writer.SessionAsync(a, 2);
                await using var probe = await OpenAsync(transport, tokenMode, token, request, after: "0");
                AssertOnlyA(await ReadAsync(probe, 2), a, 1, 2);
                await Writer.SessionAsync(b, 3);
                await Writer.SessionAsync(a, 3); // sentinel
                AssertOnlyA(await ReadAsync(probe, 1), a, 3);
                break;
            }
            case IsolationPath.ResumeFromAnotherProjectsOffset:
            {
                await Writer.SessionAsync(a, 1);
                await Writer.SessionAsync(b, 1);
                await Writer.SessionAsync(a, 2);
                await Writer.SessionAsync(b, 2);
                // A crafted offset: b's first event, taken from the log. It positions the stream
                // and nothing more: what follows is a's, never b's.
                var crafted = await fixture.OffsetOfAsync(b, 1);
                await using var probe = await OpenAsync(transport, tokenMode, token, request, after: crafted);
                AssertOnlyA(await ReadAsync(probe, 1), a, 2);
                await Writer.SessionAsync(b, 3);
                await Writer.SessionAsync(a, 3); // sentinel
                AssertOnlyA(await ReadAsync(probe, 1), a, 3);
                break;
            }
            case IsolationPath.GroupNotices:
            {
                await using var probe = await OpenAsync(transport, tokenMode, token, request, after: null, waitForGroupOf: a);
                var client = ((HubProbe)probe).Client;
                if (tokenMode)
                {
                    // Asking for b is refused, and joins nothing.
                    var refused = await client.StreamAsync([b], after: "0");
                    Assert.Contains("forbidden_project:", (await refused.FailureAsync()).Message);
                }
                Assert.False(hub.Get<ProjectGroupTracker>().IsMember(client.ConnectionId, b));
                await NoticeAsync(hub, b, "for b");
                await NoticeAsync(hub, a, "sentinel");
                var notice = await client.ReadNoticeAsync();
                Assert.Equal((a, "sentinel"), (notice.ProjectId, notice.Message));
                break;
            }
        }
    }

    private static void AssertOnlyA(List<Received> events, string a, params int[] sessions)
    {
        Assert.All(events, e => Assert.Equal(a, e.ProjectId));
        Assert.Equal(sessions.Select(n => $"{a}-{n}"), events.Select(e => e.SessionId));
    }
}
