using EventHub.Observability;
using System.Threading.Channels;
using EventHub.Auth;
using EventHub.Contracts;
using EventHub.SignalR.Internal;
using EventHub.Streaming;
using EventHub.Streaming.Policy;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace EventHub.SignalR;

/// <summary>
/// <c>/hubs/events</c>: the change stream over SignalR. Like the SSE endpoint it is a thin
/// transport: it turns a <see cref="StreamEventsRequest"/> into a <see cref="StreamRequest"/>,
/// has <see cref="StreamPolicy"/> authorize, limit and open it (the policy shared with SSE; the
/// stream source owns validation, offsets, catch-up, live and exactly-once) and pumps the session
/// into a bounded channel. What is its own: the per-connection stream count, project groups for
/// notices, and framing how a stream ended: a final signal item for clients that ask for it
/// (<see cref="StreamEventsRequest.SignalItems"/>), a HubException for the others.
/// </summary>
public sealed partial class EventsHub(
    StreamPolicy policy,
    ProjectGroupTracker groups,
    ChangeEventCache cache,
    StreamQueueTotals queues,
    SignalRStreamsStopDrain stopDrain,
    ConnectionOwners owners,
    IOptions<EventsHubOptions> options,
    IOptions<LimitsOptions> limits,
    TimeProvider timeProvider,
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
            lease = policy.AcquireConnection(Caller());
        }
        catch (StreamRefusedException e)
        {
            throw Error(e.Refusal);
        }
        Context.Items[StateKey] = new ConnectionState(lease);
        owners.Bind(Context); // from now on no other principal's request reaches this connection
        return base.OnConnectedAsync();
    }

    private StreamCaller Caller() =>
        new(Context.User, Context.GetHttpContext()?.Connection.RemoteIpAddress, EventHubMetrics.SignalR);

    /// <summary>
    /// A refusal as the client reads it: <c>{code}: {message}</c>. A failure on the server's side
    /// (database, bug) carries no code: clients treat a coded error as final, and this one is not.
    /// </summary>
    private static HubException Error(StreamRefusal refusal) =>
        new(refusal.StatusCode >= 500 ? refusal.Message : $"{refusal.Code}: {refusal.Message}");

    /// <summary>The offset of the log's head: stream after it for "from now" with a fixed resume point.</summary>
    /// <remarks>Authorized like a stream of every project the caller may read.</remarks>
    public async Task<string> GetHeadOffset()
    {
        var (offset, refusal) = await policy.GetHeadOffsetAsync(Caller(), Context.ConnectionAborted);
        return offset ?? throw Error(refusal!);
    }

    /// <summary>
    /// The live state of the projects and types <paramref name="request"/> selects (its
    /// <c>After</c> is ignored): the latest event of every entity and the offset it is exact at.
    /// Authorized like the stream; a refusal is a <see cref="HubException"/> starting with its code.
    /// </summary>
    public async Task<LiveState> GetState(StreamEventsRequest? request)
    {
        var (state, refusal) = await policy.GetStateAsync(Caller(), StateRequest(request), Context.ConnectionAborted);
        if (refusal is not null) throw Error(refusal);
        return new LiveState
        {
            Offset = state!.Offset,
            Entities = state.Entities.Select(x => Entity(cache, x.Kind, x.Key, x.Event)).ToList(),
            UnkeyedTypes = state.UnkeyedTypes,
            EntityKeys = LiveEntityKeys.Of(state.EntityKeys),
        };
    }

    /// <summary>
    /// The state of <see cref="GetState"/> as a stream of pages of
    /// <see cref="EventsHubOptions.StatePageEntities"/> entities (<see cref="LiveStatePage"/>), sent
    /// while the database's read goes on, which runs ahead of the client (<see cref="StatePages"/>):
    /// the first page carries the header, the last the count, the stream's end is the state's end;
    /// a read that fails midway fails the stream. Counted against the connection's streams while it runs.
    /// </summary>
    public async IAsyncEnumerable<LiveStatePage> StreamState(StreamEventsRequest? request,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var connection = (ConnectionState)Context.Items[StateKey]!;
        var maxStreams = limits.Value.MaxStreamsPerConnection;
        if (!connection.TryOpenStream(maxStreams))
        {
            LogRejected(logger, Context.ConnectionId, AccessErrorCodes.TooManyStreams);
            throw new HubException($"{AccessErrorCodes.TooManyStreams}: This connection already has {maxStreams} open streams " +
                "(Limits:MaxStreamsPerConnection). Let one end before asking for the state.");
        }
        try
        {
            var (opened, refusal) = await policy.OpenStateAsync(Caller(), StateRequest(request), cancellationToken);
            if (refusal is not null) throw Error(refusal);
            await using var state = opened!;
            await foreach (var page in StatePages.ReadAsync(state, options.Value.StatePageEntities,
                               x => Entity(cache, x.Kind!, x.Key!, x.Event!), cancellationToken))
                yield return page;
        }
        finally
        {
            connection.CloseStream();
        }
    }

    private static StreamRequest StateRequest(StreamEventsRequest? request) =>
        new(request?.Projects ?? [], request?.Types ?? [], null);

    // The event in its shared form: written from its wire JSON (or MessagePack map) as streams
    // write it, not parsed into a JsonElement per entity and serialized again.
    private static LiveEntity Entity(ChangeEventCache events, string kind, string key, EventHub.Log.LogEvent e) =>
        new() { Kind = kind, Key = key, Event = events.Get(e) };

    /// <summary>
    /// Streams the events the request selects: catch-up from <see cref="StreamEventsRequest.After"/>
    /// then live. With <see cref="StreamEventsRequest.SignalItems"/>, a request that cannot be served
    /// and a stream that ends (reset, token expiry, the server stopping) end with one final
    /// <see cref="StreamSignal"/> item, then the stream completes; without it they fail the stream
    /// with a <see cref="HubException"/> whose text says the same (a coded one starts with the code).
    /// Cancelling the stream frees it at once.
    /// </summary>
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
            if (request.SignalItems) return SignalOnly(HubStreamSignals.TooManyStreams(maxStreams));
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
        // The one policy (shared with SSE): only the request it grants is opened, and the groups
        // joined below are its projects, never the ones the client named.
        var opening = await policy.OpenAsync(Caller(), new StreamRequest(request.Projects ?? [], request.Types ?? [], request.After),
            countsAsConnection: false, cancellationToken);
        // A stream that does not open frees its slot: the throw through StreamEvents' catch, a
        // signal item here (no pump will).
        if (opening.Refusal is { } refusal)
        {
            if (!request.SignalItems) throw Error(refusal);
            state.CloseStream();
            return SignalOnly(HubStreamSignals.Refused(refusal));
        }
        if (opening.Reset is { } reset)
        {
            await SendResetNoticesAsync(Clients.Caller, opening.Projects, reset);
            if (!request.SignalItems) throw ResetError(reset);
            state.CloseStream();
            return SignalOnly(HubStreamSignals.Reset(reset));
        }

        var session = opening.Session!;
        var projects = session.Projects.ToArray();
        var connectionAborted = Context.ConnectionAborted;
        try
        {
            // Join the groups before the first event is queued, so a client that has received an
            // event is in the group.
            await groups.JoinAsync(connectionId, projects, connectionAborted);
        }
        catch
        {
            // JoinAsync is all or nothing: only the stream needs undoing.
            await session.DisposeAsync();
            throw;
        }

        var queue = new StreamItemQueue(options.Value.StreamChannelCapacity, options.Value.StreamChannelPayloadBytes);
        queues.Add(queue);
        stopDrain.Streaming(Context);
        LogStreamOpened(logger, connectionId, projects.Length == 0 ? "*" : LogValue.Of(string.Join(",", projects)), LogValue.Of(request.After ?? "(now)"));
        // The pump outlives this call: it must not touch the hub instance (SignalR disposes it
        // when the method returns), only what it captured here.
        _ = PumpAsync(session, queue, connectionId, projects, Clients.Caller, state, request.SignalItems,
            cancellationToken, connectionAborted);
        return queue.Reader;
    }

    /// <summary>A stream that never opened, for a client that reads signals as items: the one signal, then the end.</summary>
    private ChannelReader<ChangeEvent> SignalOnly(StreamSignal signal)
    {
        var channel = Channel.CreateBounded<ChangeEvent>(1);
        channel.Writer.TryWrite(signal.ToItem(timeProvider.GetUtcNow()));
        channel.Writer.TryComplete();
        return channel.Reader;
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        groups.ForgetConnection(Context.ConnectionId);
        owners.Release(Context);
        stopDrain.Disconnected(Context);
        if (Context.Items.TryGetValue(StateKey, out var state))
            ((ConnectionState)state!).Dispose();
        return base.OnDisconnectedAsync(exception);
    }

    private async Task PumpAsync(StreamSession session, StreamItemQueue queue, string connectionId,
        string[] projects, IEventHubClient caller, ConnectionState state, bool signalItems,
        CancellationToken streamCancelled, CancellationToken connectionAborted)
    {
        // SignalR cancels the stream token when the client cancels the stream or the connection
        // closes; the abort token is linked too so that no path leaves a pump behind.
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(streamCancelled, connectionAborted);
        Exception? error = null;
        StreamSignal? signal = null;
        try
        {
            var end = await session.RunAsync(async (events, cancellationToken) =>
            {
                await foreach (var e in events.WithCancellation(cancellationToken))
                {
                    // Full queue (by count or by payload bytes): the client (or its connection) is
                    // slow. Waiting here is safe: the stream's live buffer fills and it falls back
                    // to the log, so memory stays bounded and nothing is dropped.
                    await queue.WriteAsync(cache.Get(e), e.PayloadSize, cancellationToken);
                }
            }, gone.Token);
            signal = HubStreamSignals.Ended(end);
            switch (end.Reason)
            {
                case StreamEndReason.Cancelled:
                    LogStreamCancelled(logger, connectionId, end.Delivered);
                    break;
                case StreamEndReason.Reset:
                    await SendResetNoticesAsync(caller, projects, end.Reset!);
                    error = ResetError(end.Reset!);
                    break;
                case StreamEndReason.TokenExpired:
                    error = new HubException($"{AccessErrorCodes.TokenExpired}: The token that authorized this stream has expired. " +
                        "Reconnect with a fresh token and call StreamEvents again with 'after' set to the offset of the last event you received.");
                    break;
                case StreamEndReason.ServerEnded:
                    // Never silently: the client resumes from its offset.
                    error = new HubException("The server ended this stream. Resume by calling StreamEvents again with " +
                        "'after' set to the offset of the last event you received.");
                    break;
                default:
                    error = new HubException("The stream failed on the server. Resume by calling StreamEvents again with " +
                        "'after' set to the offset of the last event you received.");
                    break;
            }
        }
        catch (Exception e)
        {
            // Only sending the reset notices can throw here (the connection is going away).
            LogStreamFailed(logger, connectionId, e);
            error ??= new HubException("The stream failed on the server. Resume by calling StreamEvents again with " +
                "'after' set to the offset of the last event you received.");
            signal ??= HubStreamSignals.Failed;
        }
        finally
        {
            await session.DisposeAsync();
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
            // A client that reads signals gets the end as the last item and a clean completion. The
            // write waits for room like any item (the client may be slow); if the client is gone it
            // is cancelled, and the error completes a stream nobody reads.
            if (signalItems && signal is not null && await TryWriteSignalAsync(queue, signal, gone.Token)) error = null;
            queue.TryComplete(error);
            // Counted in the metric until SignalR has taken the rest, or nobody will.
            await queue.ReadOrAbandonedAsync(gone.Token);
            queues.Remove(queue);
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

    private async Task<bool> TryWriteSignalAsync(StreamItemQueue queue, StreamSignal signal, CancellationToken cancellationToken)
    {
        try
        {
            await queue.WriteAsync(signal.ToItem(timeProvider.GetUtcNow()), 0, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static HubException ResetError(StreamResetException reset) =>
        new($"reset: {reset.Reason}: {reset.Message} Continue from offset {reset.ContinueFrom}.");
}
