using EventHub.Contracts;
using EventHub.SignalR;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

/// <summary>
/// End to end against both modes: real PostgreSQL, real hubs on loopback, real SSE and SignalR
/// clients, real HS256 tokens.
/// </summary>
public sealed partial class AuthTests(AuthFixture fixture) : IClassFixture<AuthFixture>
{
    private SourceWriter Writer => fixture.Db.Writer;

    public enum Transport { Sse, SignalRJson, SignalRMessagePack }

    /// <summary>One event as any transport delivers it.</summary>
    private sealed record Received(string ProjectId, string? SessionId, string Offset);

    /// <summary>A stream over any transport, read the same way.</summary>
    private interface IProbe : IAsyncDisposable
    {
        Task<Received> ReadAsync();
    }

    private sealed class SseProbe(SseTestClient client) : IProbe
    {
        public SseTestClient Client => client;

        public async Task<Received> ReadAsync()
        {
            var frame = await client.ReadEventAsync();
            if (frame.Event == "stream_error") throw new InvalidOperationException("The stream ended with an error: " + frame.Data);
            return new Received(frame.ProjectId, frame.Json.TryGetProperty("sessionId", out var s) ? s.GetString() : null, frame.Id!);
        }

        public ValueTask DisposeAsync() => client.DisposeAsync();
    }

    private sealed class HubProbe(EventsHubClient client, TestEventStream stream) : IProbe
    {
        public EventsHubClient Client => client;
        public TestEventStream Stream => stream;

        public async Task<Received> ReadAsync()
        {
            var e = await stream.ReadAsync();
            return new Received(e.ProjectId, e.SessionId, e.Offset);
        }

        public ValueTask DisposeAsync() => client.DisposeAsync();
    }

    /// <summary>
    /// Opens a stream. <paramref name="projects"/> null asks for every project. For SignalR,
    /// <paramref name="waitForGroupOf"/> waits until the server has opened the stream (the client
    /// does not wait for it): the stream joins that project's group right after opening.
    /// </summary>
    private async Task<IProbe> OpenAsync(Transport transport, bool tokenMode, string? token, string[]? projects, string? after,
        string? waitForGroupOf = null)
    {
        var hub = fixture.Hub(tokenMode);
        if (transport == Transport.Sse)
        {
            var query = string.Join("&", (projects ?? []).Select(p => "project=" + Uri.EscapeDataString(p))
                .Concat(after is null ? [] : ["after=" + Uri.EscapeDataString(after)]));
            return new SseProbe(await SseTestClient.ConnectAsync(hub.BaseAddress, query, bearer: token));
        }
        var protocol = transport == Transport.SignalRJson ? WireProtocol.Json : WireProtocol.MessagePack;
        var client = await EventsHubClient.ConnectAsync(hub.BaseAddress, protocol,
            token is null ? null : () => Task.FromResult<string?>(token));
        var stream = await client.StreamAsync(projects, after: after);
        if (waitForGroupOf is not null)
        {
            var tracker = hub.Get<ProjectGroupTracker>();
            var id = client.ConnectionId;
            await TaskTimeouts.UntilAsync(() => tracker.IsMember(id, waitForGroupOf), because: "the stream did not open");
        }
        return new HubProbe(client, stream);
    }

    private async Task<List<Received>> ReadAsync(IProbe probe, int count)
    {
        var list = new List<Received>(count);
        for (var i = 0; i < count; i++) list.Add(await probe.ReadAsync());
        return list;
    }

    private Task NoticeAsync(HubServer hub, string project, string message) =>
        hub.Get<ProjectNotices>()
            .SendAsync(new ProjectNotice { ProjectId = project, Kind = "test", Message = message, Offset = null })
            .WithTimeout();
}
