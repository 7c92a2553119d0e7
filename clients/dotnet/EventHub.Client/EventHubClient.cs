// How the client resumes, and why it owns the reconnect loop instead of SignalR's.
//
// A SignalR stream dies with its connection: WithAutomaticReconnect brings the connection back but
// not the stream, and a fresh StreamEvents call needs the offset to resume from. So each attempt
// here is a new HubConnection plus one StreamEvents call with `after` = the offset of the last
// event this client yielded. The hub serves catch-up from that offset then live, exactly once and
// in order (EventStreamSource), so the consumer sees no gap and no duplicate across drops and hub
// restarts. The offset moves only when an event is yielded: what a buffer between the SignalR
// channel and the consumer holds (StreamBuffer, up to MaxBufferedEvents) is read again after a drop,
// so no event can be lost in it.
//
// The client asks for signal items (StreamEventsRequest.SignalItems): the hub ends each stream with
// a final item saying how (docs/signalr.md), so nothing here parses an exception's text for a reset
// or an error code. A reset (the hub cannot continue from our offset: another log, retention pruned
// after it, an offset format the log no longer issues) is neither an error nor skipped: the client
// yields a StreamReset item carrying the offset X to continue from, and continues after X on the
// same connection.
//
// Duplicates (issue 14): the hub sends each event once, but the client still guards against a
// repeated seq (Internal/SeqWindow) so that a hub fault cannot reach the application twice. The
// guard does not hide the fault: each dropped event is counted (DuplicatesDropped, the
// eventhub.client.duplicates_dropped metric) and logged as a warning, and the end-to-end tests
// assert the count stays 0.
//
// Errors are sorted by Internal/ErrorClassifier after the one error contract (EventHub.Contracts.
// ErrorContract): a code retried "never" and HTTP 400/401/403/404 stop the enumeration with an
// exception; "at once" reconnects without waiting; "with a fresh token" reconnects at once (the
// access-token provider is asked again) and stops if the same happens before any event arrives;
// everything else (connection refused or dropped, unknown codes) is retried per the policy.

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using EventHub.Client.Internal;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventHub.Client;

/// <summary>
/// A resumable subscription to the EventHub SignalR hub (<c>/hubs/events</c>).
/// <see cref="ReadAllAsync"/> yields every event the options select, exactly once and in order,
/// across dropped connections and hub restarts; typed events (<see cref="PrUpdated"/>,
/// <see cref="SessionCreated"/>, …) are reached by pattern matching.
/// </summary>
/// <example>
/// <code>
/// await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = new("http://127.0.0.1:5080"), Projects = ["ao"], StartAfter = "0" });
/// await foreach (var evt in client.ReadAllAsync(cancellationToken))
/// {
///     switch (evt)
///     {
///         case PrUpdated pr: Console.WriteLine($"{pr.Url} ci={pr.Ci}"); break;
///         case SessionCreated s: Console.WriteLine($"new session {s.Id}"); break;
///         case StreamReset reset: await RefetchStateAsync(reset.Projects); break; // then the stream continues after reset.ContinueFrom
///         default: Console.WriteLine($"{evt.Type} {evt.Payload}"); break; // types this client does not know
///     }
///     SaveOffset(evt.Offset);
/// }
/// </code>
/// </example>
public sealed partial class EventHubClient : IAsyncDisposable
{
    /// <summary>
    /// A connection that lasted this long counts as progress: the next loss starts the backoff
    /// afresh, and a fresh token that carried it is not "the same failure again" when it expires.
    /// </summary>
    private static readonly TimeSpan StableConnection = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A stream that ran this long on a fresh token shows the hub took that token: when it expires
    /// too, the client asks for another instead of stopping. Short, so that tokens of a few seconds
    /// carry a quiet stream (with <see cref="StableConnection"/> a 4 s token stopped the client at
    /// its second expiry); a refused stream ends within a round trip.
    /// </summary>
    private static readonly TimeSpan TokenCarriedStream = TimeSpan.FromSeconds(1);

    private readonly EventHubClientOptions _options;
    private readonly IEventHubReconnectPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _stateLock = new();

    /// <summary>How many recent seq values the duplicate guard remembers (as the TypeScript client's default).</summary>
    private const int DuplicateWindow = 10_000;

    private readonly SeqWindow _seen = new(DuplicateWindow);
    private long _duplicatesDropped;
    private EventHubConnectionState _state = EventHubConnectionState.Stopped;
    private int _reading;
    private string? _after;

    // The current attempt; touched only by the enumeration (one at a time) and DisposeAsync.
    private HubConnection? _connection;
    // The open stream, as its buffer holds it (StreamBuffer); null between streams.
    private StreamBuffer? _stream;
    private bool _everConnected;
    private Exception? _lastError;
    private int _attempt;
    private long _troubleSince;
    private long _liveSince;
    private bool _retryAtOnce;
    // An "at once" failure since the last progress: a second one backs off (a hub that ends every
    // stream at once, say a node draining behind a balancer that keeps choosing it, was asked again
    // without a pause, as fast as the connections went).
    private bool _atOnceSinceProgress;
    // A fresh-token error (token expired, unauthenticated) since the last progress: a second one
    // stops. Progress is an event, or a stream that ran on the fresh token for TokenCarriedStream:
    // then the error is that token's own expiry (a quiet stream outlives every token it gets), not
    // the same failure again. A provider whose token the hub refuses fails within one connection's
    // set-up. "The stream went live" alone would not tell them apart over SignalR (the hub does not
    // acknowledge a stream, and it accepts a connection within its clock skew of exp but refuses a
    // stream past exp): a provider returning a just-expired token would reconnect at once forever.
    private bool _freshTokenTried;
    private long _freshTokenTriedAt;

    /// <summary>Creates a client; nothing connects until <see cref="ReadAllAsync"/> is enumerated.</summary>
    /// <param name="options">The hub URL, the selection and the connection settings.</param>
    /// <exception cref="ArgumentException">The hub URL is not an absolute http or https URL.</exception>
    /// <exception cref="NotSupportedException">MessagePack in a native AOT application (use JSON there).</exception>
    public EventHubClient(EventHubClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.HubUrl);
        foreach (var url in (IEnumerable<Uri>)[options.HubUrl, .. options.FallbackHubUrls ?? []])
            if (url is null || !url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
                throw new ArgumentException(
                    $"'{url}' is not a hub URL. Pass an absolute http:// or https:// URL such as http://127.0.0.1:5080.",
                    nameof(options));
        _options = options;
        _policy = options.ReconnectPolicy ?? new ExponentialBackoffPolicy();
        _time = options.TimeProvider ?? TimeProvider.System;
        _logger = options.LoggerFactory?.CreateLogger<EventHubClient>() ?? (ILogger)NullLogger.Instance;
        if (options.MaxBufferedEvents < 1)
            throw new ArgumentException($"MaxBufferedEvents is {options.MaxBufferedEvents}; it must be at least 1.", nameof(options));
        if (options.ConnectTimeout <= TimeSpan.Zero && options.ConnectTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentException($"ConnectTimeout is {options.ConnectTimeout}; it must be positive (or Timeout.InfiniteTimeSpan).", nameof(options));
        if (options.Protocol == EventHubProtocol.MessagePack && !RuntimeFeature.IsDynamicCodeSupported)
            throw new NotSupportedException(
                "The MessagePack protocol needs dynamic code, which this native AOT application does not have. Use EventHubProtocol.Json (the default).");
        _after = options.StartAfter;
        _endpoints = [HubEndpoint(options.HubUrl), .. (options.FallbackHubUrls ?? []).Select(HubEndpoint)];
    }

    private readonly Uri[] _endpoints;
    private int _endpoint;

    /// <summary>
    /// Test seam: when set, each attempt opens its stream with this (given the offset to stream
    /// after) instead of a SignalR connection, so a test can deliver what no correct hub sends,
    /// such as an event twice.
    /// </summary>
    internal Func<string?, CancellationToken, Task<ChannelReader<ChangeEvent>>>? OpenStreamOverride { get; init; }

    /// <summary>
    /// Test seam: runs once a connection has started, before the stream is opened on it, so a test
    /// can let the hub's close (a connection limit) arrive first.
    /// </summary>
    internal Func<HubConnection, Task>? ConnectionStarted { get; init; }

    /// <summary>
    /// The hub endpoint the client connects to (the server URL with <see cref="EventHubPaths.Events"/>):
    /// <see cref="EventHubClientOptions.HubUrl"/>, or the fallback it moved to after a failed attempt.
    /// </summary>
    public Uri HubUrl => _endpoints[Volatile.Read(ref _endpoint)];

    /// <summary>Where the client stands now. Changes are announced by <see cref="StateChanged"/>.</summary>
    public EventHubConnectionState State
    {
        get { lock (_stateLock) return _state; }
    }

    /// <summary>
    /// Raised on every change of <see cref="State"/>, on the thread that drives the enumeration
    /// (<see cref="DisposeAsync"/>'s move to <see cref="EventHubConnectionState.Stopped"/> on the
    /// disposing thread; keep handlers short; an exception from one is logged and ignored).
    /// </summary>
    public event EventHandler<EventHubStateChangedEventArgs>? StateChanged;

    /// <summary>
    /// Raised with each <see cref="ProjectNotice"/> the hub sends to the connection about a project
    /// it streams (for example <see cref="ProjectNoticeKinds.Reset"/>: the stream itself also
    /// carries the reset, as a <see cref="StreamReset"/> item), on SignalR's thread (keep handlers
    /// short; an exception from one is logged and ignored). A stream of every project gets none.
    /// </summary>
    public event EventHandler<ProjectNotice>? ProjectNoticeReceived;

    /// <summary>
    /// The offset of the last item yielded (a <see cref="StreamReset"/>'s is its
    /// <see cref="StreamReset.ContinueFrom"/>), or <see cref="EventHubClientOptions.StartAfter"/>
    /// before the first one (from now: the hub's head once connected): store it to resume in a later run.
    /// </summary>
    public string? LastOffset => Volatile.Read(ref _after);

    /// <summary>
    /// How many events arrived a second time (a seq this client had already yielded) and were
    /// dropped, over the client's life. The hub sends each event once, so anything but 0 is a hub
    /// fault: each one is also logged as a warning and counted in the
    /// <c>eventhub.client.duplicates_dropped</c> metric of the <c>EventHub.Client</c> meter.
    /// </summary>
    public long DuplicatesDropped => Interlocked.Read(ref _duplicatesDropped);

    /// <summary>
    /// Streams the selected events: catch-up from the start offset, then live, without end. Each
    /// is a typed event (<see cref="PrUpdated"/>, <see cref="SessionCreated"/>, …) when its type is
    /// one of the eight known ones, else a plain <see cref="ChangeEvent"/> with the raw payload.
    /// A dropped connection or a restarted hub is reconnected per the reconnect policy and resumed
    /// after the last event yielded. A second enumeration later resumes where this one stopped.
    /// When the hub cannot continue from the offset without a gap (it belongs to another log, or
    /// retention pruned events after it) a <see cref="StreamReset"/> item comes first: refetch your
    /// state, then go on reading; the stream continues after <see cref="StreamReset.ContinueFrom"/>.
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration (it then throws <see cref="OperationCanceledException"/>).</param>
    /// <exception cref="EventHubRequestException">The hub refused with a code that retrying cannot help (a bad offset, project or
    /// type, a project the token does not grant, a host name it does not answer to, a path it does not serve), or a fresh
    /// token failed as the last one did.</exception>
    /// <exception cref="EventHubConnectionException">The first connection failed, the connection was refused without one of the
    /// hub's codes, or the policy gave up.</exception>
    /// <exception cref="InvalidOperationException">Another enumeration of this client is running.</exception>
    public async IAsyncEnumerable<ChangeEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (Interlocked.Exchange(ref _reading, 1) == 1)
            throw new InvalidOperationException(
                "This EventHubClient is already being enumerated. Read it from one consumer, or create a second client for a second stream.");
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        var token = linked.Token;
        _attempt = 0;
        _lastError = null;
        // A client that reached its hub before (an earlier enumeration, a state request) is past its
        // initial connection: a hub down now is a lost connection, retried per the policy.
        _everConnected = Volatile.Read(ref _reachedHub) == 1;
        _retryAtOnce = false;
        _atOnceSinceProgress = false;
        _freshTokenTried = false;
        SetState(EventHubConnectionState.Connecting, null);
        try
        {
            while (true)
            {
                ChangeEvent? next;
                try
                {
                    next = await NextAsync(token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_disposed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    next = null; // DisposeAsync ends the enumeration quietly.
                }
                if (next is null) yield break;
                if (next is StreamReset) _seen.Clear(); // the log may be another one, with its own seq values
                else if (!_seen.Add(next.Seq))
                {
                    CountDuplicate(next);
                    continue;
                }
                Volatile.Write(ref _after, next.Offset);
                yield return ChangeEventExtensions.ToTyped(next);
            }
        }
        finally
        {
            await DropConnectionAsync().ConfigureAwait(false);
            SetState(EventHubConnectionState.Stopped, null);
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>Drops a repeated event visibly: counted, logged and measured (never yielded twice).</summary>
    private void CountDuplicate(ChangeEvent repeated)
    {
        var count = Interlocked.Increment(ref _duplicatesDropped);
        ClientMetrics.DuplicatesDropped.Add(1, new KeyValuePair<string, object?>("hub", HubUrl.ToString()));
        LogDuplicate(_logger, repeated.Seq, repeated.Offset, count);
    }

    /// <summary>Ends a running enumeration and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested) return;
        await _disposed.CancelAsync().ConfigureAwait(false);
        await DropConnectionAsync().ConfigureAwait(false);
        SetState(EventHubConnectionState.Stopped, null);
    }

    /// <summary>The next event, reconnecting as often as the policy allows.</summary>
    private async Task<ChangeEvent> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_stream is null) await ConnectAsync(cancellationToken).ConfigureAwait(false);
            if (_stream is not { } stream) continue; // DisposeAsync took it: the next connect throws
            var reader = stream.Reader;
            Exception? error = null;
            StreamSignal? signal = null;
            try
            {
                if (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!reader.TryRead(out var item)) continue;
                    if (!StreamSignal.TryRead(item, out signal))
                    {
                        _attempt = 0; // progress: a later loss starts the backoff afresh
                        _atOnceSinceProgress = false;
                        _freshTokenTried = false;
                        return item;
                    }
                    // Acted on below, outside this try: stopping on it throws.
                }
                else if (stream.Paused)
                {
                    // The buffer filled and cancelled the stream, and the application has now read
                    // all it held: open the stream again after the last event yielded, at once.
                    LogResumed(_logger, _options.MaxBufferedEvents, _after ?? "(now)");
                    await ReleaseStreamAsync().ConfigureAwait(false);
                    continue;
                }
                else
                {
                    error = new EventHubConnectionException("The hub completed the stream without saying why; resuming.");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                // The connection dropped, or the hub closed it with an error.
                var cause = e is ChannelClosedException { InnerException: { } inner } ? inner : e;
                var outcome = ErrorClassifier.Classify(cause, out var code, out var reason);
                error = code is null ? cause : await FailedAsync(outcome, code, reason, cause).ConfigureAwait(false);
            }

            if (signal is not null)
            {
                // The stream's final item: how it ended. The channel completes after it.
                await ReleaseStreamAsync().ConfigureAwait(false);
                if (signal.IsReset)
                {
                    // Not a failure: the hub cannot continue from our offset without a gap. Hand the
                    // signal to the application (refetch state) and continue from the given offset
                    // on the same connection, at once.
                    _attempt = 0;
                    _atOnceSinceProgress = false;
                    LogReset(_logger, signal.Code, _after ?? "(now)", signal.Offset!);
                    return new StreamReset(signal.Code, signal.Message, signal.Offset!, _after, _options.Projects ?? [], _time.GetUtcNow());
                }
                error = await FailedAsync(ErrorClassifier.Classify(signal), signal.Code, signal.Message, null).ConfigureAwait(false);
            }

            // Lost: the connection dropped or the hub ended the stream (it is shutting down).
            error ??= new EventHubConnectionException("The hub ended the stream; resuming.");
            LogLost(_logger, HubUrl, _after ?? "(now)", error);
            await DropConnectionAsync().ConfigureAwait(false);
            // (A stream that ran that long after an "at once" still backs off at its next one: the
            // policy's first delay, at once with the default policy.)
            if (_time.GetElapsedTime(_liveSince) >= StableConnection) _attempt = 0;
            if (_attempt == 0) _troubleSince = _time.GetTimestamp();
            _lastError = error;
            SetState(EventHubConnectionState.Reconnecting, error);
        }
    }

    /// <summary>Connects and opens the stream, waiting per the policy between attempts.</summary>
    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_lastError is not null && _retryAtOnce)
            {
                _retryAtOnce = false; // the contract says reconnect at once; a failure after this backs off
                LogAttemptFailed(_logger, _attempt, HubUrl, TimeSpan.Zero, _lastError);
            }
            else if (_lastError is not null)
            {
                _attempt++;
                var delay = _policy.NextDelay(new EventHubReconnectContext(_attempt, _time.GetElapsedTime(_troubleSince), _lastError));
                if (delay is null)
                {
                    LogGaveUp(_logger, HubUrl, _attempt - 1, _lastError);
                    throw await StopAsync(new EventHubConnectionException(
                        $"Gave up reconnecting to {HubUrl} after {_attempt - 1} attempts ({_lastError.Message}). " +
                        $"Check that the hub is running, then read again: the client resumes after offset {_after ?? "(now)"}.",
                        _lastError)).ConfigureAwait(false);
                }
                LogAttemptFailed(_logger, _attempt, HubUrl, delay.Value, _lastError);
                if (delay.Value > TimeSpan.Zero)
                    await Task.Delay(delay.Value, _time, cancellationToken).ConfigureAwait(false);
            }

            // After a reset the connection is still open: only the stream ended. Continue on it.
            if (_connection is { State: HubConnectionState.Connected } open)
            {
                try
                {
                    _stream = await OpenStreamAsync(open, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    await DropConnectionAsync().ConfigureAwait(false); // start afresh below
                }
            }
            else if (_connection is not null)
            {
                await DropConnectionAsync().ConfigureAwait(false);
            }

            if (OpenStreamOverride is { } openStream)
            {
                var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                _stream = new StreamBuffer(await openStream(_after, stream.Token).ConfigureAwait(false), _options.MaxBufferedEvents, stream);
                _everConnected = true;
                _lastError = null;
                _liveSince = _time.GetTimestamp();
                SetState(EventHubConnectionState.Live, null);
                return;
            }

            var connection = BuildConnection();
            // The hub refuses a connection over its limits at the handshake: it closes the
            // connection with the code in the close message, and the call that follows fails with
            // "not active". The close's error is the reason (it used to be lost, and a first
            // connection was reported as an unreachable hub).
            var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            connection.Closed += error => { closed.TrySetResult(error); return Task.CompletedTask; };
            var started = false;
            try
            {
                LogConnecting(_logger, HubUrl, _attempt + 1, _after ?? "(now)");
                await StartWithinConnectTimeoutAsync(connection, cancellationToken).ConfigureAwait(false);
                started = true;
                Volatile.Write(ref _reachedHub, 1);
                if (ConnectionStarted is { } hook) await hook(connection).ConfigureAwait(false);
                var opened = await OpenStreamAsync(connection, cancellationToken).ConfigureAwait(false);
                _connection = connection;
                _stream = opened;
                _everConnected = true;
                _lastError = null;
                _liveSince = _time.GetTimestamp();
                LogLive(_logger, HubUrl);
                SetState(EventHubConnectionState.Live, null);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            catch (Exception failure)
            {
                var e = started && failure is InvalidOperationException && connection.State == HubConnectionState.Disconnected
                    ? await CloseReasonAsync(closed.Task).ConfigureAwait(false) ?? failure
                    : failure;
                await connection.DisposeAsync().ConfigureAwait(false);
                var outcome = ErrorClassifier.Classify(e, out var code, out var reason);
                if (code is not null)
                {
                    // A coded refusal outside the stream (GetHeadOffset, a connection limit).
                    _lastError = await FailedAsync(outcome, code, reason, e).ConfigureAwait(false);
                    if (_attempt == 0) _troubleSince = _time.GetTimestamp();
                    // A first connection refused so shows it (the application can tell "too many
                    // connections" from "connecting"); a reconnection is in that state already.
                    SetState(EventHubConnectionState.Reconnecting, _lastError);
                    continue;
                }
                if (ErrorClassifier.IsRefusedConnection(e))
                    throw await StopAsync(new EventHubConnectionException(
                        $"The hub at {HubUrl} refused the connection ({e.Message}). Check the URL (the hub's path is " +
                        $"{EventHubPaths.Events}) and the access token.", e)).ConfigureAwait(false);
                if (!_everConnected && !_options.RetryInitialConnection)
                    throw await StopAsync(new EventHubConnectionException(
                        $"Could not connect to the hub at {HubUrl}: {Sentence(e.Message)} Check the URL and that the hub is running.", e))
                        .ConfigureAwait(false);
                if (_lastError is null) _troubleSince = _time.GetTimestamp();
                _lastError = e;
                // Several hub URLs: the next attempt goes to the next one in turn.
                Volatile.Write(ref _endpoint, (_endpoint + 1) % _endpoints.Length);
            }
        }
    }

    /// <summary>
    /// Starts the connection, giving up after <see cref="EventHubClientOptions.ConnectTimeout"/>
    /// with a <see cref="TimeoutException"/>: SignalR bounds the handshake, not the negotiate
    /// request before it (HttpClient's 100 s), so a hub that accepts TCP and never answers kept
    /// the caller silent for minutes.
    /// </summary>
    private async Task StartWithinConnectTimeoutAsync(HubConnection connection, CancellationToken cancellationToken)
    {
        using var bound = new CancellationTokenSource(_options.ConnectTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bound.Token);
        try
        {
            await connection.StartAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The hub did not answer within {_options.ConnectTimeout.TotalSeconds:0.###} s.", e);
        }
    }

    /// <summary>
    /// The hub's error from the close message of a connection that closed (its Closed handlers run
    /// a moment after its state turns Disconnected, so wait for them, briefly); null when it closed
    /// without one.
    /// </summary>
    private async Task<Microsoft.AspNetCore.SignalR.HubException?> CloseReasonAsync(Task<Exception?> closed)
    {
        try
        {
            return await closed.WaitAsync(CloseReasonWait, _time).ConfigureAwait(false) as Microsoft.AspNetCore.SignalR.HubException;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private static readonly TimeSpan CloseReasonWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Opens the stream on a started connection. "From now" (no offset yet) first asks the hub for
    /// its head offset and streams after it, so that a connection lost before the first event
    /// resumes from that fixed point instead of from a later "now" (which would skip what came
    /// between).
    /// </summary>
    private async Task<StreamBuffer> OpenStreamAsync(HubConnection connection, CancellationToken cancellationToken)
    {
        if (_after is null)
        {
            var head = await connection.InvokeAsync<string>(EventHubMethods.GetHeadOffset, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _after, head);
        }
        // Signal items: the stream's end (reset, error code) arrives as its last item, as data.
        var request = new StreamEventsRequest { Projects = _options.Projects, Types = _options.Types, After = _after, SignalItems = true };
        // The stream's own token: its buffer cancels it when the application falls behind (StreamBuffer).
        var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            // The hub does not acknowledge a stream: a request it refuses sends one stream_error item
            // right after this returns, and NextAsync acts on it (or surfaces the reset).
            var items = await connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents, request, stream.Token)
                .ConfigureAwait(false);
            return new StreamBuffer(items, _options.MaxBufferedEvents, stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Gives up the open stream, if any (its buffer's pump stops).</summary>
    private async Task ReleaseStreamAsync()
    {
        var stream = Interlocked.Exchange(ref _stream, null); // the enumeration's and DisposeAsync's
        if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Acts on a coded failure per the contract: throws (after stopping) for one retried "never",
    /// or a second fresh-token one with no progress between (an event, or a stream that ran on the
    /// fresh token for <see cref="TokenCarriedStream"/>); otherwise returns the error to record
    /// before reconnecting, at once or after the policy's delay.
    /// </summary>
    private async Task<Exception> FailedAsync(ErrorOutcome outcome, string code, string message, Exception? cause)
    {
        if (outcome == ErrorOutcome.RetryWithFreshToken && _freshTokenTried && _liveSince > _freshTokenTriedAt
            && _time.GetElapsedTime(_liveSince) >= TokenCarriedStream)
            _freshTokenTried = false; // the fresh token carried a stream that long: this is its own expiry
        // Without a token provider there is no fresh token to ask for: the same request fails the same way.
        var stop = outcome == ErrorOutcome.Stop ||
            (outcome == ErrorOutcome.RetryWithFreshToken && (_freshTokenTried || _options.AccessTokenProvider is null));
        if (stop) throw await StopAsync(Rejected(code, message, cause)).ConfigureAwait(false);
        if (outcome == ErrorOutcome.RetryWithFreshToken)
        {
            // A new connection asks the access-token provider again; drop this one.
            _freshTokenTried = true;
            _freshTokenTriedAt = _time.GetTimestamp();
            await DropConnectionAsync().ConfigureAwait(false);
        }
        _retryAtOnce = (outcome == ErrorOutcome.RetryAtOnce && !_atOnceSinceProgress) || outcome == ErrorOutcome.RetryWithFreshToken;
        _atOnceSinceProgress |= outcome == ErrorOutcome.RetryAtOnce;
        return new EventHubConnectionException(code, $"The hub ended the stream ({code}): {message}", cause);
    }

    private EventHubRequestException Rejected(string code, string reason, Exception? cause)
    {
        LogRejected(_logger, code, reason);
        return new EventHubRequestException(code, $"The hub rejected the stream request ({code}): {reason}", cause);
    }

    /// <summary>Closes the connection, moves to Stopped with the error, and returns the error to throw.</summary>
    private async Task<Exception> StopAsync(Exception error)
    {
        await DropConnectionAsync().ConfigureAwait(false);
        SetState(EventHubConnectionState.Stopped, error);
        return error;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification =
        "MessagePack is opt-in; a native AOT application cannot choose it (the constructor refuses), and the JSON protocol's types have generated metadata (ClientJsonContext).")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "As IL2026.")]
    private HubConnection BuildConnection()
    {
        var builder = new HubConnectionBuilder().WithUrl(HubUrl, o =>
        {
            if (_options.AccessTokenProvider is { } tokens) o.AccessTokenProvider = tokens;
            _options.ConfigureHttpConnection?.Invoke(o);
            // Outermost, over whatever the application's own factory makes: the hub's code off a refusal.
            var handlers = o.HttpMessageHandlerFactory;
            o.HttpMessageHandlerFactory = inner => new HubErrorResponseHandler(handlers?.Invoke(inner) ?? inner);
        });
        if (_options.Protocol == EventHubProtocol.MessagePack)
            builder.AddMessagePackProtocol(o => o.SerializerOptions = EventHubMessagePack.Options);
        else // first in the chain: the types' generated metadata, so no reflection (ClientJsonContext)
            builder.AddJsonProtocol(o => o.PayloadSerializerOptions.TypeInfoResolverChain.Insert(0, ClientJsonContext.Default));
        if (_options.LoggerFactory is { } loggerFactory)
            builder.Services.AddSingleton(loggerFactory);
        var connection = builder.Build();
        // Without a handler SignalR logs every notice as an error ("failed to bind arguments"): a
        // reset, which the client handles, looked like a fault to whoever watches the logs.
        connection.On<ProjectNotice>(EventHubClientMethods.ProjectNotice, notice =>
        {
            try
            {
                ProjectNoticeReceived?.Invoke(this, notice);
            }
            catch (Exception e)
            {
                LogHandlerFailed(_logger, e);
            }
        });
        return connection;
    }

    private async Task DropConnectionAsync()
    {
        await ReleaseStreamAsync().ConfigureAwait(false);
        var connection = Interlocked.Exchange(ref _connection, null);
        if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
    }

    private void SetState(EventHubConnectionState state, Exception? error)
    {
        EventHubConnectionState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == state) return;
            _state = state;
        }
        try
        {
            StateChanged?.Invoke(this, new EventHubStateChangedEventArgs(previous, state, error));
        }
        catch (Exception e)
        {
            LogHandlerFailed(_logger, e);
        }
    }

    private static string Sentence(string message) =>
        message.TrimEnd().EndsWith('.') ? message.TrimEnd() : message.TrimEnd() + ".";

    private static Uri HubEndpoint(Uri server)
    {
        var builder = new UriBuilder(server);
        var path = builder.Path.TrimEnd('/');
        if (!path.EndsWith(EventHubPaths.Events, StringComparison.OrdinalIgnoreCase)) path += EventHubPaths.Events;
        builder.Path = path;
        return builder.Uri;
    }
}
