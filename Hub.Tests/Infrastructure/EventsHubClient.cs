using System.Threading.Channels;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Tests.Infrastructure;

/// <summary>The hub protocols a client can speak.</summary>
public enum WireProtocol { Json, MessagePack }

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

    public static async Task<EventsHubClient> ConnectAsync(Uri hub, WireProtocol protocol = WireProtocol.Json)
    {
        var builder = new HubConnectionBuilder().WithUrl(new Uri(hub, EventHubPaths.Events));
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

/// <summary>One open stream; every read is bounded.</summary>
public sealed class TestEventStream(ChannelReader<ChangeEvent> reader)
{
    public async Task<ChangeEvent> ReadAsync()
    {
        try
        {
            return await reader.ReadAsync().AsTask().WithTimeout();
        }
        catch (ChannelClosedException e) when (e.InnerException is HubException hub)
        {
            throw hub;
        }
    }

    public async Task<List<ChangeEvent>> ReadAsync(int count)
    {
        var events = new List<ChangeEvent>(count);
        for (var i = 0; i < count; i++) events.Add(await ReadAsync());
        return events;
    }

    /// <summary>Waits for the stream to end with an error from the hub, and returns it.</summary>
    public async Task<HubException> FailureAsync()
    {
        var completion = reader.Completion.WithTimeout();
        return await Assert.ThrowsAsync<HubException>(() => completion);
    }

    /// <summary>Waits for the stream to end (cancelled or completed); returns how it ended.</summary>
    public async Task<Exception?> EndAsync()
    {
        try
        {
            // Drain what is left: a completion is only observed once the channel is empty.
            while (await reader.WaitToReadAsync().AsTask().WithTimeout())
                while (reader.TryRead(out _)) { }
            return null;
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            return e;
        }
    }
}
