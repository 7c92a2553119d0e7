using System.Threading.Channels;
using EventHub.Contracts;
using EventHub.SignalR.Internal;
using EventHub.Streaming;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace EventHub.SignalR;

/// <summary>
/// <c>/hubs/events</c>: the change stream over SignalR. Like the SSE endpoint it is a thin
/// transport: it turns a <see cref="StreamEventsRequest"/> into a <see cref="StreamRequest"/>,
/// opens an <see cref="EventStream"/> from <see cref="EventStreamSource"/> (which owns
/// validation, offsets, catch-up, live and exactly-once) and pumps it into a bounded channel.
/// </summary>
public sealed partial class EventsHub(
    EventStreamSource source,
    ProjectGroupTracker groups,
    ChangeEventCache cache,
    IOptions<EventsHubOptions> options,
    ILogger<EventsHub> logger) : Hub<IEventHubClient>
{
    /// <summary>
    /// Streams the events the request selects: catch-up from <see cref="StreamEventsRequest.After"/>
    /// then live. A request that cannot be served fails with a <see cref="HubException"/> whose
    /// message starts with the error code. Cancelling the stream frees it at once.
    /// </summary>
    /// <summary>The offset of the log's head: stream after it for "from now" with a fixed resume point.</summary>
    public Task<string> GetHeadOffset() => source.GetHeadOffsetAsync(Context.ConnectionAborted);

    public async Task<ChannelReader<ChangeEvent>> StreamEvents(StreamEventsRequest? request, CancellationToken cancellationToken)
    {
        var connectionId = Context.ConnectionId;
        if (request is null)
        {
            LogRejected(logger, connectionId, StreamErrorCodes.MissingRequest);
            throw new HubException($"{StreamErrorCodes.MissingRequest}: StreamEvents needs a request " +
                "{ projects, types, after }; send an empty object to stream every project from now.");
        }

        var streamRequest = new StreamRequest(request.Projects ?? [], request.Types ?? [], request.After);
        EventStream stream;
        try
        {
            stream = await source.OpenAsync(streamRequest, cancellationToken);
        }
        catch (StreamRequestException e)
        {
            LogRejected(logger, connectionId, e.Code);
            throw new HubException($"{e.Code}: {e.Message}");
        }
        catch (StreamResetException reset)
        {
            LogRejected(logger, connectionId, reset.Reason);
            await SendResetNoticesAsync(Clients.Caller, streamRequest.Projects, reset);
            throw ResetError(reset);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The hub runs with detailed errors (EventsHubSetup): no server exception's text may
            // reach the client, only this.
            LogOpenFailed(logger, connectionId, e);
            throw new HubException("The stream could not be opened on the server. Try again shortly.");
        }

        // The projects are valid now (OpenAsync validated them). Join their groups before the
        // first event is queued, so a client that has received an event is in the group.
        string[] projects = streamRequest.Projects.Distinct(StringComparer.Ordinal).ToArray();
        var connectionAborted = Context.ConnectionAborted;
        try
        {
            await groups.JoinAsync(connectionId, projects, connectionAborted);
        }
        catch
        {
            // JoinAsync is all or nothing: only the stream needs undoing.
            await stream.DisposeAsync();
            throw;
        }

        var channel = Channel.CreateBounded<ChangeEvent>(new BoundedChannelOptions(options.Value.StreamChannelCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        LogStreamOpened(logger, connectionId, projects.Length == 0 ? "*" : string.Join(",", projects), request.After ?? "(now)");
        // The pump outlives this call: it must not touch the hub instance (SignalR disposes it
        // when the method returns), only what it captured here.
        var caller = Clients.Caller;
        _ = PumpAsync(stream, channel.Writer, connectionId, projects, caller, cancellationToken, connectionAborted);
        return channel.Reader;
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        groups.ForgetConnection(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }

    private async Task PumpAsync(EventStream stream, ChannelWriter<ChangeEvent> writer, string connectionId,
        string[] projects, IEventHubClient caller, CancellationToken streamCancelled, CancellationToken connectionAborted)
    {
        // SignalR cancels the stream token when the client cancels the stream or the connection
        // closes; the abort token is linked too so that no path leaves a pump behind.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(streamCancelled, connectionAborted);
        var cancellationToken = cts.Token;
        Exception? error = null;
        var sent = 0L;
        try
        {
            await foreach (var e in stream.ReadAllAsync(cancellationToken))
            {
                var item = cache.Get(e);
                // Full channel: the client (or its connection) is slow. Waiting here is safe: the
                // EventStream's live buffer fills and it falls back to the log, so memory stays
                // bounded and nothing is dropped.
                if (!writer.TryWrite(item))
                    await writer.WriteAsync(item, cancellationToken);
                sent++;
            }
            // ReadAllAsync ends only when the fan-out removed the subscription (the hub is
            // stopping): end the stream with an error, never silently.
            error = new HubException("The server ended this stream. Resume by calling StreamEvents again with " +
                "'after' set to the offset of the last event you received.");
            LogStreamEndedByServer(logger, connectionId, sent);
        }
        catch (StreamResetException reset)
        {
            // Retention pruned events after this stream's position: an explicit reset, never a gap.
            await SendResetNoticesAsync(caller, projects, reset);
            error = ResetError(reset);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client cancelled or left: not an error case.
            LogStreamCancelled(logger, connectionId, sent);
        }
        catch (Exception e)
        {
            LogStreamFailed(logger, connectionId, e);
            error = new HubException("The stream failed on the server. Resume by calling StreamEvents again with " +
                "'after' set to the offset of the last event you received.");
        }
        finally
        {
            await stream.DisposeAsync();
            try
            {
                await groups.LeaveAsync(connectionId, projects);
            }
            catch (Exception e)
            {
                LogLeaveFailed(logger, connectionId, e);
            }
            writer.TryComplete(error);
        }
    }

    /// <summary>
    /// The reset signal over SignalR: a <see cref="ProjectNotice"/> of kind <c>reset</c> for each
    /// project of the stream, then the stream's error. The notice goes to the calling connection
    /// only: a reset concerns one client's offset, and the other members of the project's group
    /// have nothing to refetch.
    /// </summary>
    private static async Task SendResetNoticesAsync(IEventHubClient caller, IReadOnlyCollection<string> projects, StreamResetException reset)
    {
        foreach (var project in projects.Count == 0 ? ["*"] : projects)
            await caller.ProjectNotice(new ProjectNotice
            {
                ProjectId = project,
                Kind = ProjectNoticeKinds.Reset,
                Message = $"{reset.Reason}: {reset.Message}",
                Offset = reset.ContinueFrom,
            });
    }

    private static HubException ResetError(StreamResetException reset) =>
        new($"reset: {reset.Reason}: {reset.Message} Continue from offset {reset.ContinueFrom}.");
}
