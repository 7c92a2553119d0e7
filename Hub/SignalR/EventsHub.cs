using EventHub.Observability;
using System.Threading.Channels;
using EventHub.Auth;
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
    StreamAccess access,
    ConnectionLimiter limiter,
    IOptions<LimitsOptions> limits,
    TimeProvider timeProvider,
    EventHubMetrics metrics,
    ILogger<EventsHub> logger) : Hub<IEventHubClient>
{
    // Context.Items key of the connection's ConnectionState (its limiter lease and stream count).
    private static readonly object StateKey = new();

    /// <summary>
    /// Counts the connection against the per-token and per-address limits; past one, the
    /// connection closes with a HubException naming the limit.
    /// </summary>
    public override Task OnConnectedAsync()
    {
        IDisposable lease;
        try
        {
            lease = limiter.Acquire(Context.User, Context.GetHttpContext()?.Connection.RemoteIpAddress);
        }
        catch (AccessDeniedException e)
        {
            LogRejected(logger, Context.ConnectionId, e.Code);
            throw new HubException($"{e.Code}: {e.Message}");
        }
        Context.Items[StateKey] = new ConnectionState(lease);
        metrics.ConnectionOpened(EventHubMetrics.SignalR);
        return base.OnConnectedAsync();
    }

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

        var state = (ConnectionState)Context.Items[StateKey]!;
        var maxStreams = limits.Value.MaxStreamsPerConnection;
        if (!state.TryOpenStream(maxStreams))
        {
            LogRejected(logger, connectionId, AccessErrorCodes.TooManyStreams);
            throw new HubException($"{AccessErrorCodes.TooManyStreams}: This connection already has {maxStreams} open streams " +
                "(Limits:MaxStreamsPerConnection). Cancel one, or ask for several projects in one stream.");
        }
        try
        {
            return await OpenStreamAsync(request, state, connectionId, cancellationToken);
        }
        catch
        {
            // A stream that did not open frees its slot at once; an open one frees it when its pump ends.
            state.CloseStream();
            throw;
        }
    }

    private async Task<ChannelReader<ChangeEvent>> OpenStreamAsync(StreamEventsRequest request, ConnectionState state,
        string connectionId, CancellationToken cancellationToken)
    {
        StreamGrant? grant = null;
        EventStream stream;
        try
        {
            // The one authorization point (shared with SSE): only the request it returns is opened,
            // and the groups joined below are its projects, never the ones the client named.
            grant = access.Authorize(Context.User, new StreamRequest(request.Projects ?? [], request.Types ?? [], request.After));
            stream = await source.OpenAsync(grant.Request, cancellationToken);
        }
        catch (AccessDeniedException e)
        {
            LogRejected(logger, connectionId, e.Code);
            throw new HubException($"{e.Code}: {e.Message}");
        }
        catch (StreamRequestException e)
        {
            LogRejected(logger, connectionId, e.Code);
            throw new HubException($"{e.Code}: {e.Message}");
        }
        catch (StreamResetException reset)
        {
            LogRejected(logger, connectionId, reset.Reason);
            metrics.Reset(EventHubMetrics.SignalR, reset.Reason);
            // Only to the projects the caller may read (a reset names no other project's offset).
            await SendResetNoticesAsync(Clients.Caller, grant?.Request.Projects ?? [], reset);
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
        string[] projects = grant.Request.Projects.Distinct(StringComparer.Ordinal).ToArray();
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
        metrics.StreamOpened(EventHubMetrics.SignalR);
        _ = PumpAsync(stream, channel.Writer, connectionId, projects, caller, state, grant.ExpiresAt, cancellationToken, connectionAborted);
        return channel.Reader;
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        groups.ForgetConnection(Context.ConnectionId);
        if (Context.Items.TryGetValue(StateKey, out var state))
        {
            ((ConnectionState)state!).Dispose();
            metrics.ConnectionClosed(EventHubMetrics.SignalR);
        }
        return base.OnDisconnectedAsync(exception);
    }

    private async Task PumpAsync(EventStream stream, ChannelWriter<ChangeEvent> writer, string connectionId,
        string[] projects, IEventHubClient caller, ConnectionState state, DateTimeOffset? expiresAt,
        CancellationToken streamCancelled, CancellationToken connectionAborted)
    {
        // SignalR cancels the stream token when the client cancels the stream or the connection
        // closes; the abort token is linked too so that no path leaves a pump behind. The token's
        // expiry ends the stream too: a SignalR connection outlives the token it was opened with.
        using var expiry = TokenExpiry.Start(expiresAt, timeProvider);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(streamCancelled, connectionAborted, expiry.Token);
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
                metrics.Delivered(EventHubMetrics.SignalR);
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
            metrics.Reset(EventHubMetrics.SignalR, reset.Reason);
            await SendResetNoticesAsync(caller, projects, reset);
            error = ResetError(reset);
        }
        catch (OperationCanceledException) when (expiry.HasExpired && !streamCancelled.IsCancellationRequested &&
                                                  !connectionAborted.IsCancellationRequested)
        {
            error = new HubException($"{AccessErrorCodes.TokenExpired}: The token that authorized this stream has expired. " +
                "Reconnect with a fresh token and call StreamEvents again with 'after' set to the offset of the last event you received.");
            LogStreamExpired(logger, connectionId, sent);
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
            metrics.StreamClosed(EventHubMetrics.SignalR);
            await stream.DisposeAsync();
            // The slot is free once the stream has left the fan-out (before the groups, so that a
            // client that sees it leave a group can count on the slot).
            state.CloseStream();
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
