using EventHub.Auth;
using EventHub.Observability;

namespace EventHub.Streaming.Policy;

/// <summary>
/// The one per-stream policy of both transports: authorize, count the connection against the
/// limits, open the stream, and turn every way a request can fail into a
/// <see cref="StreamRefusal"/> or a reset; an open <see cref="StreamSession"/> then enforces the
/// token's expiry and reports metrics. A security rule is written here once; the SSE endpoint and
/// the hub keep only their framing.
/// </summary>
/// <remarks>
/// Order matters and is the same for both: a malformed or unauthorized request is refused before it
/// takes a connection slot (so a stranger cannot use up a principal's quota with bad requests), and
/// nothing is read from the log before the request is authorized (only the request that
/// <see cref="StreamAccess.Authorize"/> returns is opened, never the one the client sent).
/// </remarks>
public sealed partial class StreamPolicy(
    StreamAccess access,
    ConnectionLimiter limiter,
    EventStreamSource source,
    StreamRequestValidator validator,
    EventHub.State.LiveStateReader state,
    EventHub.State.StateReadAheadBudget stateBudget,
    EventHub.State.EntityKinds kinds,
    EventHub.Projects.ProjectCatalog projects,
    EventHubMetrics metrics,
    TimeProvider timeProvider,
    ILogger<StreamPolicy> logger)
{
    private static readonly StreamRefusal Unavailable = new(StatusCodes.Status503ServiceUnavailable, StreamRefusal.Unavailable,
        "The event log is unavailable right now. Try again shortly and resume from the last offset you received.");

    private static readonly StreamRefusal InternalError = new(StatusCodes.Status500InternalServerError, EventHub.Contracts.ErrorCodes.InternalError,
        "The request could not be completed on the server. Try again shortly.");

    /// <summary>
    /// Takes a connection slot for <paramref name="caller"/> (a SignalR connection, whatever its
    /// number of streams) or throws <see cref="StreamRefusedException"/> naming the limit. Dispose
    /// the lease when the connection ends.
    /// </summary>
    public IDisposable AcquireConnection(StreamCaller caller)
    {
        IDisposable lease;
        try
        {
            lease = limiter.Acquire(caller.User, caller.Address);
        }
        catch (AccessDeniedException e)
        {
            LogRefused(logger, caller.Transport, e.Code);
            throw new StreamRefusedException(new StreamRefusal(e.StatusCode, e.Code, e.Message));
        }
        metrics.ConnectionOpened(caller.Transport);
        return new ConnectionLease(lease, metrics, caller.Transport);
    }

    /// <summary>
    /// Opens the stream <paramref name="request"/> selects, narrowed to what the caller may read.
    /// With <paramref name="countsAsConnection"/> (an SSE response) the stream also takes a
    /// connection slot, freed when the session is disposed. Throws only
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task<StreamOpening> OpenAsync(StreamCaller caller, StreamRequest request, bool countsAsConnection,
        CancellationToken cancellationToken)
    {
        StreamGrant grant;
        try
        {
            grant = access.Authorize(caller.User, request);
        }
        catch (Exception e) when (Refuse(e) is { } refusal)
        {
            LogRefused(logger, caller.Transport, refusal.Code);
            return StreamOpening.Refused(refusal);
        }

        IDisposable? connection = null;
        if (countsAsConnection)
        {
            try { connection = AcquireConnection(caller); }
            catch (StreamRefusedException e) { return StreamOpening.Refused(e.Refusal); }
        }

        try
        {
            var stream = await source.OpenAsync(grant.Request, cancellationToken);
            return StreamOpening.Opened(new StreamSession(stream, grant, connection, caller, metrics, timeProvider, logger));
        }
        catch (StreamResetException reset)
        {
            connection?.Dispose();
            // Not a bad request: the client did nothing wrong, its log is gone. It learns so
            // in-band, with the offset to continue from, and only for the projects it may read.
            metrics.Reset(caller.Transport, reset.Reason);
            LogResetAtOpen(logger, caller.Transport, reset.Reason);
            return StreamOpening.ResetAt(reset, grant.Request.Projects.Distinct(StringComparer.Ordinal).ToArray());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            connection?.Dispose();
            throw;
        }
        catch (Exception e)
        {
            connection?.Dispose();
            return StreamOpening.Refused(RefuseLogged(caller, e));
        }
    }

    /// <summary>
    /// The log's head offset for a caller authorized like a stream of every project it may read,
    /// or the refusal. Throws only <see cref="OperationCanceledException"/> on cancellation.
    /// </summary>
    public async Task<(string? Offset, StreamRefusal? Refusal)> GetHeadOffsetAsync(StreamCaller caller, CancellationToken cancellationToken)
    {
        try
        {
            access.Authorize(caller.User, new StreamRequest([], [], null));
            return (await source.GetHeadOffsetAsync(cancellationToken), null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return (null, RefuseLogged(caller, e));
        }
    }

    /// <summary>
    /// The registered projects the caller may read (authorized as a stream of every project it may
    /// read: in token mode those its projects claim names), or the refusal. Throws only
    /// <see cref="OperationCanceledException"/> on cancellation.
    /// </summary>
    public async Task<(IReadOnlyList<EventHub.Projects.ProjectEntry>? Projects, StreamRefusal? Refusal)> GetProjectsAsync(
        StreamCaller caller, CancellationToken cancellationToken)
    {
        try
        {
            var grant = access.Authorize(caller.User, new StreamRequest([], [], null));
            return (await projects.ReadAsync(grant.Request.Projects, cancellationToken), null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return (null, RefuseLogged(caller, e));
        }
    }

    /// <summary>
    /// The live state of what <paramref name="request"/> selects, narrowed to what the caller may
    /// read (the same authorization and filters as a stream; its offset is ignored), or the
    /// refusal. Throws only <see cref="OperationCanceledException"/> on cancellation.
    /// </summary>
    public async Task<(EventHub.State.LiveStateRows? State, StreamRefusal? Refusal)> GetStateAsync(StreamCaller caller,
        StreamRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var grant = access.Authorize(caller.User, request with { After = null });
            return (await state.ReadAsync(StateFilter(grant.Request), cancellationToken, TurnKey(caller)), null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return (null, RefuseLogged(caller, e));
        }
    }

    /// <summary>
    /// The live state of what <paramref name="request"/> selects, as a read in progress past its head
    /// (the same authorization, filters and refusals as <see cref="GetStateAsync"/>), for a transport
    /// that writes the entities while they are read; the read runs ahead of the transport
    /// (<see cref="EventHub.State.StateReadAhead"/>, within the node's budget), so a slow client
    /// holds none of it. With <paramref name="countsAsConnection"/> (an HTTP request) the read also
    /// takes a connection slot until it is disposed, as an SSE response does: one address or
    /// principal cannot hold more state answers at once than it may hold connections. The caller disposes it.
    /// </summary>
    public async Task<(EventHub.State.StateReadAhead? State, StreamRefusal? Refusal)> OpenStateAsync(StreamCaller caller,
        StreamRequest request, CancellationToken cancellationToken, bool countsAsConnection = false)
    {
        IAsyncEnumerator<EventHub.State.LiveStateItem>? items = null;
        IDisposable? connection = null;
        try
        {
            var grant = access.Authorize(caller.User, request with { After = null });
            var filter = StateFilter(grant.Request);
            if (countsAsConnection) connection = AcquireConnection(caller);
            items = state.StreamAsync(filter, cancellationToken, TurnKey(caller)).GetAsyncEnumerator(cancellationToken);
            if (!await items.MoveNextAsync() || items.Current.Head is null)
                throw new InvalidOperationException("The state read returned no head row.");
            return (new EventHub.State.StateReadAhead(items, stateBudget, connection), null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (items is not null) await items.DisposeAsync();
            connection?.Dispose();
            throw;
        }
        catch (StreamRefusedException e)
        {
            return (null, e.Refusal);
        }
        catch (Exception e)
        {
            if (items is not null) await items.DisposeAsync();
            connection?.Dispose();
            return (null, RefuseLogged(caller, e));
        }
    }

    /// <summary>
    /// The state's filter of <paramref name="request"/>: a stream's, whose types select whole kinds
    /// (<see cref="EventHub.State.EntityKinds"/> says why); throws <see cref="StreamRequestException"/> otherwise.
    /// </summary>
    private EventHub.Log.EventFilter StateFilter(StreamRequest request)
    {
        var filter = validator.Validate(request).Filter;
        kinds.EnsureWholeKinds(filter);
        return filter;
    }

    /// <summary>
    /// Whose turn a state read takes when reads queue: the token's principal (issuer and subject, as
    /// the connection limits count it), else the address. In open mode every local client is one
    /// address, and reads keep their arrival order.
    /// </summary>
    private static string? TurnKey(StreamCaller caller) =>
        ConnectionLimiter.PrincipalKeyOf(caller.User) ?? ConnectionLimiter.AddressKey(caller.Address);

    /// <summary>The refusal for <paramref name="e"/> (a 500 for anything a request cannot cause), logged as such.</summary>
    private StreamRefusal RefuseLogged(StreamCaller caller, Exception e)
    {
        var refusal = Refuse(e) ?? InternalError;
        if (refusal.StatusCode >= 500) LogOpenFailed(logger, caller.Transport, e);
        else LogRefused(logger, caller.Transport, refusal.Code);
        return refusal;
    }

    /// <summary>The refusal for an exception a request can cause; null for anything else (a bug: 500).</summary>
    private static StreamRefusal? Refuse(Exception e) => e switch
    {
        AccessDeniedException a => new StreamRefusal(a.StatusCode, a.Code, a.Message),
        StreamRequestException r => new StreamRefusal(StatusCodes.Status400BadRequest, r.Code, r.Message),
        _ when IsDatabaseFailure(e) => Unavailable,
        _ => null,
    };

    /// <summary>
    /// Whether <paramref name="e"/> is the database failing (down, restarting, a timeout), not the
    /// request: the client retries and resumes from its offset. Its text is never shown to clients.
    /// </summary>
    internal static bool IsDatabaseFailure(Exception e) =>
        e is Npgsql.NpgsqlException or TimeoutException or System.Net.Sockets.SocketException ||
        e.InnerException is { } inner && IsDatabaseFailure(inner);

    private sealed class ConnectionLease(IDisposable lease, EventHubMetrics metrics, string transport) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            lease.Dispose();
            metrics.ConnectionClosed(transport);
        }
    }

    [LoggerMessage(EventId = 4310, Level = LogLevel.Information, Message = "A {Transport} stream request was refused ({Code}).")]
    private static partial void LogRefused(ILogger logger, string transport, string code);

    [LoggerMessage(EventId = 4312, Level = LogLevel.Information, Message = "A {Transport} stream opened with a reset ({Reason}): the client continues from the offset it was given.")]
    private static partial void LogResetAtOpen(ILogger logger, string transport, string reason);

    [LoggerMessage(EventId = 4311, Level = LogLevel.Error, Message = "Opening a {Transport} stream failed on the server.")]
    private static partial void LogOpenFailed(ILogger logger, string transport, Exception exception);
}
