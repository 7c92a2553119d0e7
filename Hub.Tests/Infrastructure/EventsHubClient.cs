using System.Threading.Channels;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Tests.Infrastructure;

/// <summary>A real SignalR client of <c>/hubs/events</c> over a chosen protocol, recording the notices it receives.</summary>
public sealed class EventsHubClient : IAsyncDisposable
{
    private readonly Channel<ProjectNotice> _notices = Channel.CreateUnbounded<ProjectNotice>();

    private EventsHubClient(HubConnection connection)
    {
        Connection = connection;
        Connection.On<ProjectNotice>(EventHubClientMethods.ProjectNotice, n => _notices.Writer.TryWrite(n));
    }

    public HubConnection Connection { get; }
    public string ConnectionId => Connection.ConnectionId ?? throw new InvalidOperationException("Not connected.");

    /// <param name="accessToken">The token factory (token mode); called on every (re)connect.</param>
    public static async Task<EventsHubClient> ConnectAsync(Uri hub, WireProtocol protocol = WireProtocol.Json,
        Func<Task<string?>>? accessToken = null)
    {
        var builder = new HubConnectionBuilder().WithUrl(new Uri(hub, EventHubPaths.Events), o =>
        {
            if (accessToken is not null) o.AccessTokenProvider = accessToken;
        });
        if (protocol == WireProtocol.MessagePack)
            builder.AddMessagePackProtocol(o => o.SerializerOptions = EventHubMessagePack.Options);
        var client = new EventsHubClient(builder.Build());
        await client.Connection.StartAsync().WithTimeout();
        return client;
    }

    /// <summary>Opens a stream; cancel <paramref name="cancellationToken"/> to end it.</summary>
    public async Task<TestEventStream> StreamAsync(StreamEventsRequest? request, CancellationToken cancellationToken = default)
    {
        var reader = await Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents, request, cancellationToken)
            .WithTimeout();
        return new TestEventStream(reader);
    }

    public Task<TestEventStream> StreamAsync(string[]? projects = null, string[]? types = null, string? after = null,
        CancellationToken cancellationToken = default) =>
        StreamAsync(new StreamEventsRequest { Projects = projects, Types = types, After = after }, cancellationToken);

    /// <summary>The next notice this connection received.</summary>
    public async Task<ProjectNotice> ReadNoticeAsync() => await _notices.Reader.ReadAsync().AsTask().WithTimeout();

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
