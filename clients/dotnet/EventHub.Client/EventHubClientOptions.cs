using EventHub.Contracts;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.Extensions.Logging;

namespace EventHub.Client;

/// <summary>
/// What an <see cref="EventHubClient"/> streams and how it connects. Only <see cref="HubUrl"/> is
/// required; null means "the default" for the rest.
/// </summary>
public sealed class EventHubClientOptions
{
    /// <summary>
    /// The hub server, for example <c>http://127.0.0.1:5080</c>. The hub's path
    /// (<see cref="EventHubPaths.Events"/>) is added unless the URL already ends with it.
    /// </summary>
    public required Uri HubUrl { get; init; }

    /// <summary>
    /// Further hub servers (other nodes of the same deployment, against the same PostgreSQL) for
    /// reconnecting. The client starts on <see cref="HubUrl"/>; each failed connection attempt moves
    /// on to the next URL in turn (<see cref="HubUrl"/>, then these, then round again), with the
    /// reconnect policy's delay between attempts. Offsets are global, so the stream resumes on any
    /// node without loss or duplicate. Null or empty: only <see cref="HubUrl"/>.
    /// </summary>
    public IReadOnlyList<Uri>? FallbackHubUrls { get; init; }

    /// <summary>Projects to stream; null or empty streams every project.</summary>
    public IReadOnlyList<string>? Projects { get; init; }

    /// <summary>Event types to stream, exact (<c>pr_updated</c>) or a family (<c>pr_*</c>); null or empty streams every type.</summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>
    /// The opaque offset to start after: the <see cref="ChangeEvent.Offset"/> of the last event you
    /// processed, or <see cref="StreamEventsRequest.Beginning"/> (<c>"0"</c>) for the whole log.
    /// Null (the default) starts from now: the client first asks the hub for its head offset
    /// (<see cref="EventHubMethods.GetHeadOffset"/>) and streams after it, so a connection lost
    /// before the first event resumes from that fixed point and misses nothing committed since.
    /// </summary>
    public string? StartAfter { get; init; }

    /// <summary>The hub protocol; <see cref="EventHubProtocol.Json"/> by default.</summary>
    public EventHubProtocol Protocol { get; init; } = EventHubProtocol.Json;

    /// <summary>
    /// Supplies the bearer token for each connection attempt (SignalR's
    /// <see cref="HttpConnectionOptions.AccessTokenProvider"/>); null sends none.
    /// </summary>
    public Func<Task<string?>>? AccessTokenProvider { get; init; }

    /// <summary>When and how often to reconnect; null uses an <see cref="ExponentialBackoffPolicy"/> that never gives up.</summary>
    public IEventHubReconnectPolicy? ReconnectPolicy { get; init; }

    /// <summary>
    /// Whether a failure of the very first connection is retried per <see cref="ReconnectPolicy"/>.
    /// False (the default, as SignalR's own <c>StartAsync</c>) throws an
    /// <see cref="EventHubConnectionException"/> at once, so a wrong URL is reported rather than
    /// retried forever. Once the client has reached a hub (a stream or a state request), every
    /// later failure is retried: connections lost later, a later enumeration, a later state request.
    /// </summary>
    public bool RetryInitialConnection { get; init; }

    /// <summary>
    /// How long a connection attempt may wait for the hub to answer (15 s). SignalR bounds its
    /// handshake but not the negotiate request before it, which waits for HttpClient's 100 s: a
    /// hub that accepts the TCP connection and never answers (hung, or another service on its
    /// port) left the client silent for two minutes. An attempt that times out fails like an
    /// unreachable hub: reported at once for a first connection (unless
    /// <see cref="RetryInitialConnection"/>), retried per <see cref="ReconnectPolicy"/> later.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Further settings of SignalR's HTTP connection (headers, transports, a test handler); applied last.</summary>
    public Action<HttpConnectionOptions>? ConfigureHttpConnection { get; init; }

    /// <summary>Where the client and SignalR log; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The clock for reconnect delays; null uses <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>
    /// The most events the client holds that the application has not read yet (10,000). SignalR's
    /// client takes a stream in as fast as the hub sends it, whatever the application reads; past
    /// this many unread events the client cancels the stream, and once the application has read
    /// them it opens the stream again after the last one. A consumer slower than its stream (a
    /// catch-up of a large log) then costs bounded memory, and nothing is lost or repeated.
    /// </summary>
    public int MaxBufferedEvents { get; init; } = 10_000;
}
