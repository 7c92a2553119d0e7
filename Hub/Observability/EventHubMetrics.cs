using Microsoft.AspNetCore.Routing;
using System.Diagnostics.Metrics;
using EventHub.Log;
using EventHub.Streaming;
using EventHub.Streaming.Internal;
using Npgsql;
using OpenTelemetry.Metrics;

namespace EventHub.Observability;

/// <summary>
/// The hub's metrics: one <see cref="Meter"/> named <c>EventHub</c>, exported for Prometheus at
/// <c>/metrics</c> (see docs/deploy.md for the list). The transports report connections, streams,
/// deliveries and resets here; the rest is observed from the tail, the fan-out and the window.
/// </summary>
public sealed partial class EventHubMetrics : BackgroundService
{
    public const string MeterName = "EventHub";
    public const string Sse = "sse";
    public const string SignalR = "signalr";

    /// <summary>Projects reported by name in <c>eventhub_subscribers</c>; the rest are summed as "other".</summary>
    public const int TopProjects = 20;

    private static readonly TimeSpan LagSampleInterval = TimeSpan.FromSeconds(2);

    /// <summary>The lag in events is counted up to this many (a sample reads at most this many rows).</summary>
    public const int LagEventsCap = 10_000;

    private readonly Meter _meter;
    private readonly UpDownCounter<long> _connections;
    private readonly UpDownCounter<long> _streams;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _resets;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger<EventHubMetrics> _logger;
    private readonly bool _projectLabels;
    private long _lagEvents;
    private readonly UnpublishedWait _unpublishedWait;
    // Since when committed rows have waited at one tail position (null: none waits, or the tail
    // moved since the last sample). Read by DeliveryHealthCheck.
    private Waiting? _waiting;

    /// <summary>A sample's finding: rows waited at tail position <see cref="At"/> since <see cref="Since"/> (one object, read whole).</summary>
    private sealed record Waiting(long Since, Log.LogPosition At);

    /// <summary>
    /// How long committed rows have waited unpublished while this node's tail stood still (null:
    /// no row waited at the last sample, or the tail moved since the one before). With no node
    /// ticking (<c>Ticker:Enabled=false</c> everywhere) rows wait and nothing moves: every
    /// other readiness check stays green.
    /// </summary>
    /// <remarks>
    /// Also null once the tail has moved past the position the sample saw: the race it guards is a
    /// check that comes more than <c>Health:MaxTailLag</c> after a sample that found rows waiting
    /// (any sample under steady traffic), before the next sample, while the tail publishes on; it
    /// read the sample's age as a stalled tail (a 503 among 118 checks of a steady flow, CI).
    /// </remarks>
    public TimeSpan? RowsWaitingFor => Volatile.Read(ref _waiting) is { } waiting
        && (_services.GetService<ChangeLogTail>() is not { } tail || tail.Position == waiting.At)
            ? _time.GetElapsedTime(waiting.Since)
            : null;

    public EventHubMetrics(IMeterFactory meters, IServiceProvider services, TimeProvider time, ILogger<EventHubMetrics> logger,
        Microsoft.Extensions.Options.IOptions<MetricsOptions>? options = null)
    {
        _projectLabels = options?.Value.ProjectLabels ?? false;
        _services = services;
        _time = time;
        _logger = logger;
        _unpublishedWait = new UnpublishedWait(time);
        _meter = meters.Create(MeterName);
        _connections = _meter.CreateUpDownCounter<long>("eventhub.connections", "{connection}", "Open client connections (SignalR connections and SSE streams), by transport.");
        _streams = _meter.CreateUpDownCounter<long>("eventhub.streams.active", "{stream}", "Open event streams, by transport.");
        _delivered = _meter.CreateCounter<long>("eventhub.events.delivered", "{event}", "Events handed to clients, by transport.");
        _resets = _meter.CreateCounter<long>("eventhub.stream.resets", "{reset}", "Streams that could not continue without a gap and were reset, by transport and reason.");

        _meter.CreateObservableGauge("eventhub.subscribers", ObserveSubscribers, "{subscriber}",
            $"Live subscriptions per project: with Metrics:ProjectLabels the top {TopProjects} projects by name and the rest as \"other\", " +
            "otherwise all of them as \"project\"; all-project streams as \"*\".");
        _meter.CreateObservableGauge("eventhub.tail.lag.events", () => Interlocked.Read(ref _lagEvents), "{event}",
            $"Committed change_log rows after the newest event this node published, counted up to {LagEventsCap:N0} (sampled every 2 s).");
        _meter.CreateObservableGauge("eventhub.tail.lag", ObserveLagMs, "ms",
            "How long the oldest committed change_log row this node has not published has waited, from the first sample (every 2 s) that found it; 0 when none waits. " +
            "While samples fail, at least the time since the last one that succeeded.");
        _meter.CreateObservableCounter("eventhub.catchup.reads", ObserveCatchUpReads, "{read}",
            "Catch-up reads, by source: window (served from memory) or log (read from PostgreSQL).");
        _meter.CreateObservableCounter("eventhub.slow_consumer.lagged", () => Fanout?.LaggedTotal ?? 0, "{action}",
            "Times a subscriber's buffer overflowed and its stream fell back to reading the log.");
        _meter.CreateObservableGauge("eventhub.signalr.queued.bytes", () => _services.GetService<EventHub.SignalR.Internal.StreamQueueTotals>()?.QueuedBytes ?? 0, "By",
            "Payload bytes of events queued in SignalR streams for SignalR's sender (per stream at most SignalR:StreamChannelPayloadBytes past its first event).");
    }

    private ProjectFanout? Fanout => _services.GetService<IEventFanout>() as ProjectFanout;

    public void ConnectionOpened(string transport) => _connections.Add(1, Transport(transport));
    public void ConnectionClosed(string transport) => _connections.Add(-1, Transport(transport));
    public void StreamOpened(string transport) => _streams.Add(1, Transport(transport));
    public void StreamClosed(string transport) => _streams.Add(-1, Transport(transport));
    public void Delivered(string transport, long count = 1) => _delivered.Add(count, Transport(transport));

    public void Reset(string transport, string reason) =>
        _resets.Add(1, new KeyValuePair<string, object?>("transport", transport), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts what an SSE writer takes from <paramref name="events"/>.</summary>
    public async IAsyncEnumerable<LogEvent> CountDelivered(IAsyncEnumerable<LogEvent> events, string transport)
    {
        await foreach (var e in events.ConfigureAwait(false))
        {
            yield return e;
            Delivered(transport);
        }
    }

    private static KeyValuePair<string, object?> Transport(string transport) => new("transport", transport);

    private IEnumerable<Measurement<long>> ObserveSubscribers()
    {
        if (Fanout is not { } fanout) yield break;
        var (byProject, allProjects) = fanout.SubscriberCounts();
        if (!_projectLabels)
        {
            // No project id in the scrape unless the operator asked for it (Metrics:ProjectLabels).
            yield return new Measurement<long>(byProject.Sum(p => (long)p.Value), new KeyValuePair<string, object?>("project", "project"));
            yield return new Measurement<long>(allProjects, new KeyValuePair<string, object?>("project", "*"));
            yield break;
        }
        var ranked = byProject.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        foreach (var (project, count) in ranked.Take(TopProjects))
            yield return new Measurement<long>(count, new KeyValuePair<string, object?>("project", project));
        if (ranked.Count > TopProjects)
            yield return new Measurement<long>(ranked.Skip(TopProjects).Sum(p => (long)p.Value), new KeyValuePair<string, object?>("project", "other"));
        yield return new Measurement<long>(allProjects, new KeyValuePair<string, object?>("project", "*"));
    }

    private double ObserveLagMs() =>
        _services.GetService<ChangeLogTail>() is { } tail ? _unpublishedWait.Current(tail.Position).TotalMilliseconds : 0;

    private IEnumerable<Measurement<long>> ObserveCatchUpReads()
    {
        if (_services.GetService<RecentEventsWindow>() is not { } window) yield break;
        // Every catch-up read of the log follows a window miss (the window is asked first).
        yield return new Measurement<long>(window.Hits, new KeyValuePair<string, object?>("source", "window"));
        yield return new Measurement<long>(window.Misses, new KeyValuePair<string, object?>("source", "log"));
    }

    /// <summary>Samples the lag in events: committed rows after the newest published position, up to <see cref="LagEventsCap"/>.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var tail = _services.GetService<ChangeLogTail>();
        var dataSource = _services.GetService<NpgsqlDataSource>();
        if (tail is null || dataSource is null) return;
        try
        {
            await tail.Ready.WaitAsync(stoppingToken);
            using var timer = new PeriodicTimer(LagSampleInterval, _time);
            do
            {
                try
                {
                    await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                    var at = tail.Position;
                    if (await UnpublishedRowsSql.CountAsync(connection, at, LagEventsCap, stoppingToken) is { } lag)
                    {
                        Interlocked.Exchange(ref _lagEvents, lag);
                        if (lag == 0) _unpublishedWait.Sampled(0, 0, rowsInNoTick: false);
                        else
                        {
                            // Read after the count: every row it counted is in a tick up to this head, or in no tick yet.
                            var head = await HeadTickSql.ReadAsync(connection, stoppingToken);
                            var inNoTick = await UnpublishedRowsSql.CountAsync(connection, LogPosition.EndOf(head), 1, stoppingToken) is not 0;
                            _unpublishedWait.Sampled(lag, head, inNoTick);
                        }
                        if (lag == 0) Volatile.Write(ref _waiting, null);
                        else if (Volatile.Read(ref _waiting) is not { } waiting || waiting.At != at)
                        {
                            // Rows wait, and the tail has moved since the last sample (or none waited then): a new wait.
                            Volatile.Write(ref _waiting, new Waiting(_time.GetTimestamp(), at));
                        }
                    }
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    _unpublishedWait.SampleFailed();
                    LogLagSampleFailed(e);
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _meter.Dispose();
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Debug, Message = "Sampling the tail lag in events failed")]
    private partial void LogLagSampleFailed(Exception exception);
}

/// <summary>Registration of the metrics and the Prometheus endpoint.</summary>
public static class EventHubMetricsSetup
{
    public const string Path = "/metrics";

    public static IServiceCollection AddEventHubMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.Section));
        services.AddOptions<Operations.ManagementOptions>().Bind(configuration.GetSection(Operations.ManagementOptions.Section));
        services.AddSingleton<EventHubMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<EventHubMetrics>());
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(EventHubMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        return services;
    }

    /// <summary>
    /// Maps <c>/metrics</c> when a management port is configured; the port gate
    /// (<see cref="Operations.ManagementPort"/>) serves it there only. Without one the scrape is
    /// not served at all: on the public port it would tell anyone who reaches the hub its traffic,
    /// and "loopback callers only" is no guard behind a reverse proxy on the same machine, where
    /// every request comes from 127.0.0.1.
    /// </summary>
    public static void MapEventHubMetrics(this WebApplication app, IReadOnlySet<int> managementPorts)
    {
        // A scrape reads: GET and HEAD, as the probes (other methods get the JSON 405).
        if (managementPorts.Count > 0)
            app.MapPrometheusScrapingEndpoint(Path).WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
    }
}
