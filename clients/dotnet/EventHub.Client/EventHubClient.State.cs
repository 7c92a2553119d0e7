// The state side of the client: the hub's GetState for the client's selection, and repositioning
// the stream at the offset a state is exact at (EventHubLiveState uses both; an application may too).
//
// GetStateAsync is one request, not a stream, so it opens a short-lived connection of its own (the
// stream's connection belongs to the enumeration) and retries as the stream does: the same error
// contract (Internal/ErrorClassifier), the same reconnect policy, the same hub URLs in turn.

using EventHub.Client.Internal;
using EventHub.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Client;

public sealed partial class EventHubClient : ILiveStateSource
{
    // Whether a connection to a hub ever started (the stream's or a state request's): until then
    // a failure is reported at once unless RetryInitialConnection says otherwise.
    private int _reachedHub;

    /// <summary>
    /// Test seam: when set, <see cref="GetStateAsync"/> calls this instead of the hub, so a test can
    /// answer what it wants.
    /// </summary>
    internal Func<CancellationToken, Task<LiveState>>? GetStateOverride { get; init; }

    /// <summary>The client's logger factory (for the live state built on it).</summary>
    internal Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory => _options.LoggerFactory;

    /// <summary>
    /// The live state of the client's <see cref="EventHubClientOptions.Projects"/> and
    /// <see cref="EventHubClientOptions.Types"/> (hub method <see cref="EventHubMethods.GetState"/>):
    /// the latest event of every entity, exactly as of <see cref="LiveState.Offset"/>. Streaming
    /// after that offset (<see cref="ResumeAfter"/>, then <see cref="ReadAllAsync"/>) gives exactly
    /// the later changes. Most applications use <see cref="EventHubLiveState"/>, which does both.
    /// </summary>
    /// <remarks>
    /// Each call opens a connection of its own and closes it, and reads the state as the hub's
    /// <see cref="EventHubMethods.StreamState"/> pages (from an older hub without it, as one
    /// <see cref="EventHubMethods.GetState"/> answer). Failures are retried like the stream's:
    /// per the error contract and the <see cref="EventHubClientOptions.ReconnectPolicy"/>, moving
    /// through the hub URLs in turn.
    /// </remarks>
    /// <param name="cancellationToken">Cancels the request and its retries.</param>
    /// <exception cref="EventHubRequestException">The hub rejected the request (a bad project or type, a project the token does not grant).</exception>
    /// <exception cref="EventHubConnectionException">The hub could not be reached on the first attempt, refused the connection, or the policy gave up.</exception>
    public async Task<LiveState> GetStateAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        var token = linked.Token;
        var request = new StreamEventsRequest { Projects = _options.Projects, Types = _options.Types };
        var attempt = 0;
        var troubleSince = 0L;
        Exception? lastError = null;
        var atOnce = false;
        var freshTokenTried = false;
        while (true)
        {
            if (lastError is not null && !atOnce)
            {
                attempt++;
                var delay = _policy.NextDelay(new EventHubReconnectContext(attempt, _time.GetElapsedTime(troubleSince), lastError));
                if (delay is null)
                    throw new EventHubConnectionException(
                        $"Gave up fetching the state from {HubUrl} after {attempt - 1} attempts ({lastError.Message}). " +
                        "Check that the hub is running, then ask again.", lastError);
                if (delay.Value > TimeSpan.Zero) await Task.Delay(delay.Value, _time, token).ConfigureAwait(false);
            }
            atOnce = false;
            try
            {
                if (GetStateOverride is { } answer) return await answer(token).ConfigureAwait(false);
                var connection = BuildConnection();
                await using (connection.ConfigureAwait(false))
                {
                    await StartWithinConnectTimeoutAsync(connection, token).ConfigureAwait(false);
                    Volatile.Write(ref _reachedHub, 1);
                    return await ReadStatePagesAsync(connection, request, token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                if (_disposed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                    throw new ObjectDisposedException(nameof(EventHubClient));
                throw;
            }
            catch (Exception e)
            {
                var outcome = ErrorClassifier.Classify(e, out var code, out var reason);
                if (code is not null)
                {
                    if (outcome == ErrorOutcome.Stop || (outcome == ErrorOutcome.RetryWithFreshToken && freshTokenTried))
                    {
                        LogRejected(_logger, code, reason);
                        throw new EventHubRequestException(code, $"The hub rejected the state request ({code}): {reason}", e);
                    }
                    freshTokenTried |= outcome == ErrorOutcome.RetryWithFreshToken;
                    atOnce = outcome is ErrorOutcome.RetryAtOnce or ErrorOutcome.RetryWithFreshToken;
                }
                else if (ErrorClassifier.IsRefusedConnection(e))
                {
                    throw new EventHubConnectionException(
                        $"The hub at {HubUrl} refused the connection ({e.Message}). Check the URL (the hub's path is " +
                        $"{EventHubPaths.Events}) and the access token.", e);
                }
                else if (Volatile.Read(ref _reachedHub) == 0 && !_options.RetryInitialConnection)
                {
                    throw new EventHubConnectionException(
                        $"Could not fetch the state from the hub at {HubUrl}: {Sentence(e.Message)} Check the URL and that the hub is running.", e);
                }
                else
                {
                    // Several hub URLs: the next attempt goes to the next one in turn.
                    Volatile.Write(ref _endpoint, (_endpoint + 1) % _endpoints.Length);
                }
                LogStateAttemptFailed(_logger, attempt + 1, HubUrl, e);
                if (lastError is null) troubleSince = _time.GetTimestamp();
                lastError = e;
            }
        }
    }

    // SignalR's answer to a stream method the hub does not have: "Failed to invoke 'StreamState'
    // due to an error on the server. HubException: Method does not exist." (detailed errors or not).
    private static bool IsUnknownMethod(HubException e) =>
        e.Message.Contains("HubException: Method does not exist", StringComparison.Ordinal) ||
        e.Message.StartsWith("Unknown hub method", StringComparison.Ordinal);

    // The state as the hub's StreamState sends it, in pages (one message of a large state costs
    // SignalR's .NET client time that grows with the square of its size: see LiveStatePage).
    private static async Task<LiveState> ReadStatePagesAsync(HubConnection connection, StreamEventsRequest request, CancellationToken token)
    {
        LiveStatePage? first = null, last = null;
        var entities = new List<LiveEntity>();
        try
        {
            await foreach (var page in connection.StreamAsync<LiveStatePage>(EventHubMethods.StreamState, request, token).ConfigureAwait(false))
            {
                first ??= page;
                if (page.Offset != first.Offset)
                    throw new InvalidDataException($"The hub's state pages disagree on the offset ({first.Offset}, then {page.Offset}).");
                entities.AddRange(page.Entities);
                last = page;
            }
        }
        catch (HubException e) when (first is null && IsUnknownMethod(e))
        {
            // A hub from before StreamState (a rolling upgrade): its answer in one message.
            return await connection.InvokeAsync<LiveState>(EventHubMethods.GetState, request, token).ConfigureAwait(false);
        }
        if (first is null || last!.EntityCount != entities.Count)
            throw new InvalidDataException(
                $"The hub's state stream ended with {entities.Count} entities where its last page counts {last?.EntityCount}.");
        return new LiveState
        {
            Offset = first.Offset,
            Entities = entities,
            UnkeyedTypes = first.UnkeyedTypes ?? [],
            EntityKeys = first.EntityKeys ?? new Dictionary<string, LiveEntityKey>(),
        };
    }

    /// <summary>
    /// Moves the stream to <paramref name="offset"/>: the next enumeration of <see cref="ReadAllAsync"/>
    /// streams the events after it, for example after the <see cref="LiveState.Offset"/> of a state
    /// just fetched. The duplicate guard forgets what it saw (the events after the new offset are
    /// new to the application whatever came before). Not while an enumeration runs.
    /// </summary>
    /// <param name="offset">An offset the hub gave (opaque), or <see cref="StreamEventsRequest.Beginning"/>.</param>
    /// <exception cref="InvalidOperationException">An enumeration of this client is running.</exception>
    public void ResumeAfter(string offset)
    {
        ArgumentException.ThrowIfNullOrEmpty(offset);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (Interlocked.CompareExchange(ref _reading, 1, 0) == 1)
            throw new InvalidOperationException(
                "This EventHubClient is being enumerated: stop the enumeration before moving its offset.");
        try
        {
            _seen.Clear();
            Volatile.Write(ref _after, offset);
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }
}
