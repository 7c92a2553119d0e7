using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using EventHub.Auth;
using EventHub.Log;
using EventHub.Observability;
using EventHub.Sse;
using EventHub.Streaming;
using EventHub.Streaming.Internal;
using EventHub.Streaming.Policy;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EventHub.Operations;

/// <summary>
/// Once the tail is ready and before the hub reports ready, runs the live delivery path for
/// <see cref="LiveWarmUpOptions.Duration"/>: synthetic events, made and published as the tail
/// publishes a tick (<see cref="LogRows"/>, a recent-events window, a <see cref="ProjectFanout"/>),
/// streamed as every SSE client's stream is (<see cref="StreamSession"/>, <see cref="SseEndpoint.ServeAsync"/>)
/// to <see cref="LiveWarmUpOptions.Streams"/> loopback connections of a private Kestrel server in
/// this process, stopped afterwards. The window, fan-out, metrics and server are the warm-up's own:
/// nothing of it reaches the log, a client of the hub, or the hub's <c>/metrics</c>.
/// </summary>
/// <remarks>
/// Why: a new hub's first seconds of load delivered events late (SSE, 100 subscribers × 100
/// events/s: p99 12–18 ms in the first 10 s against 5–9 ms in the next; bench/results/2026-12-05-hub-youth.md).
/// The runtime compiled 2,400–5,000 methods in those seconds, most of them the framework's code
/// of the hot path (Kestrel, pipelines, sockets, async state machines) recompiled at its optimizing
/// tier, on the two cores the load was using, and the ticker waited for a CPU. Compiled code is the
/// process's, whichever server runs it, so running the path here first moves that work before
/// readiness: a node restarted under that load compiled ~40 % fewer methods in its first 10 s, with
/// p99 9.5 against 13.3 ms and 16 % less CPU per delivery (bench/results/2026-12-07-live-warm-up.md).
/// What it cannot run without real events: the ticker's reading of a tick's rows.
/// </remarks>
public sealed partial class LiveWarmUp(
    ChangeLogTail tail,
    [FromKeyedServices(LogReaders.CatchUp)] IChangeLogReader reader,
    IServiceProvider services,
    IOptions<LiveWarmUpOptions> options,
    IOptions<StreamOptions> streamOptions,
    IOptions<SseOptions> sseOptions,
    TimeProvider timeProvider,
    ILogger<LiveWarmUp> logger) : BackgroundService
{
    /// <summary>The warm-up's one project (its events exist only in its own fan-out).</summary>
    internal const string Project = "eventhub-warm-up";

    private const string Epoch = "warmup";

    // A payload of the size and shape of the contract's pr_updated.
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes(
        """{"ci": "passing", "url": "https://git.example/warm-up/pull/1", "state": "open", "review": "pending", "session": "warm-up-1", "mergeability": "mergeable"}""");

    /// <summary>Test seam: runs with the private server's address once it listens; the warm-up goes on when it completes.</summary>
    internal Func<Uri, Task>? OnServerStarted { get; set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (o.Duration <= TimeSpan.Zero) return;
        try
        {
            await tail.WaitUntilReadyAsync(stoppingToken);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            limit.CancelAfter(o.Timeout);
            var started = Stopwatch.GetTimestamp();
            try
            {
                var result = await RunAsync(o.Streams, o.Duration, limit.Token);
                LogWarmedUp(logger, result.Events, o.Streams, result.Bytes, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
            {
                LogTimedOut(logger, o.Timeout.TotalSeconds);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogFailed(logger, e);
        }
    }

    /// <summary>What one run did: events published, the bytes the streams received (SSE), and the events each received.</summary>
    internal sealed record Result(int Events, long Bytes, IReadOnlyList<int> EventsPerStream);

    /// <summary>Runs the warm-up: <paramref name="streams"/> streams take the events published for <paramref name="duration"/>.</summary>
    internal async Task<Result> RunAsync(int streams, TimeSpan duration, CancellationToken cancellationToken)
    {
        var stream = streamOptions.Value;
        var window = new RecentEventsWindow(1_000);
        var fanout = new ProjectFanout();
        using var meters = new WarmUpMeterFactory();
        var metrics = new EventHubMetrics(meters, services, timeProvider, NullLogger<EventHubMetrics>.Instance);
        // Cancelled when the events are all published: the streams end as they do when the hub stops.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var server = await StartServerAsync(meters, context => ServeAsync(context, fanout, window, metrics, stream, ending.Token), cancellationToken);
        try
        {
            var address = new Uri(server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            if (OnServerStarted is { } started) await started(address).WaitAsync(cancellationToken);
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = streams })
                { BaseAddress = address, Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            var clients = new Task<long>[streams]; // each stream's bytes
            var counted = new int[streams]; // the events each stream has read so far
            for (var i = 0; i < streams; i++) clients[i] = ReadToEndAsync(http, counted, i, cancellationToken);
            // Every stream subscribed before the first event, so that each takes all of them.
            while (fanout.SubscriberCount < streams)
            {
                if (clients.FirstOrDefault(c => c.IsCompleted) is { } early) await early; // a failed request throws
                await Task.Delay(TimeSpan.FromMilliseconds(5), timeProvider, cancellationToken);
            }

            var strings = new RepeatedStrings();
            var events = 0;
            var until = timeProvider.GetTimestamp() + (long)(duration.TotalSeconds * timeProvider.TimestampFrequency);
            while (timeProvider.GetTimestamp() < until)
            {
                // A tick of a few events, published as the tail publishes one (window first, then the fan-out).
                for (var i = 0; i < 4; i++)
                {
                    events++;
                    var e = LogRows.ToEvent(Epoch, new LogPosition(events, (ulong)events, events), Project, "warm-up-1", "pr_updated",
                        Payload.ToArray(), timeProvider.GetUtcNow().UtcDateTime, strings);
                    window.Add(e);
                    fanout.Publish(e);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(1), timeProvider, cancellationToken);
            }
            // The streams end as on a stop, which drops what a stream has not written yet: on a
            // loaded machine that was the last tick of some streams. Let them read it first
            // (bounded: a stream that does not is reported short, as before).
            var drained = timeProvider.GetTimestamp() + timeProvider.TimestampFrequency * 5;
            while (Enumerable.Range(0, streams).Any(i => Volatile.Read(ref counted[i]) < events) && timeProvider.GetTimestamp() < drained
                   && !clients.Any(c => c.IsCompleted))
                await Task.Delay(TimeSpan.FromMilliseconds(5), timeProvider, cancellationToken);
            await ending.CancelAsync();
            var bytes = await Task.WhenAll(clients);
            return new Result(events, bytes.Sum(), [.. counted]);
        }
        finally
        {
            await ending.CancelAsync();
            await server.StopAsync(CancellationToken.None);
            await server.DisposeAsync();
        }
    }

    /// <summary>One stream of the private server: subscribed to the warm-up's fan-out, served as the SSE endpoint serves a session.</summary>
    private async Task ServeAsync(HttpContext context, ProjectFanout fanout, RecentEventsWindow window, EventHubMetrics metrics,
        StreamOptions stream, CancellationToken ending)
    {
        var request = new StreamRequest([Project], [], null);
        var filter = new EventFilter([Project], null);
        var subscription = new Subscription(filter, stream.SubscriberBufferCapacity, stream.SubscriberBufferPayloadBytes);
        var head = fanout.Subscribe(subscription);
        var events = new EventStream(subscription, filter, head, catchUp: false, head, reader, window, fanout, Epoch, stream, timeProvider, ending);
        await using var session = new StreamSession(events, new StreamGrant(request, null), null,
            new StreamCaller(context.User, context.Connection.RemoteIpAddress, EventHubMetrics.Sse), metrics, timeProvider, NullLogger.Instance);
        await SseEndpoint.ServeAsync(context, session, sseOptions.Value, timeProvider);
    }

    private static async Task<WebApplication> StartServerAsync(IMeterFactory meters, RequestDelegate serve, CancellationToken cancellationToken)
    {
        // An empty builder: no configuration (the hub's Urls are not this server's), no logging.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton(meters);
        var app = builder.Build();
        app.Run(serve);
        try
        {
            await app.StartAsync(cancellationToken);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Reads a stream to its end and returns its bytes; counts its event frames (lines "data: ...")
    /// in <paramref name="counted"/>[<paramref name="index"/>] as they arrive.
    /// </summary>
    /// <remarks>Not its <c>id</c> lines: a stream from now begins with an id and no data.</remarks>
    private static async Task<long> ReadToEndAsync(HttpClient http, int[] counted, int index, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("/", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[16 * 1024];
        long bytes = 0;
        var events = 0;
        var lineStart = true; // the stream's first byte starts a line
        var matched = 0; // bytes of "data: " matched at the start of the current line
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            bytes += read;
            foreach (var b in buffer.AsSpan(0, read))
            {
                if (b == (byte)'\n') { lineStart = true; matched = 0; continue; }
                if (lineStart && matched < DataField.Length && b == DataField[matched])
                {
                    if (++matched == DataField.Length) { events++; Volatile.Write(ref counted[index], events); lineStart = false; }
                    continue;
                }
                lineStart = false;
            }
        }
        return bytes;
    }

    private static ReadOnlySpan<byte> DataField => "data: "u8;

    [LoggerMessage(EventId = 4821, Level = LogLevel.Debug, Message = "Live warm-up: {Events} events to {Streams} streams ({Bytes} bytes received) in {Ms:F0} ms.")]
    private static partial void LogWarmedUp(ILogger logger, int events, int streams, long bytes, double ms);

    [LoggerMessage(EventId = 4822, Level = LogLevel.Warning, Message = "Live warm-up gave up after {Seconds:F0} s (LiveWarmUp:Timeout); the first live load may run cold.")]
    private static partial void LogTimedOut(ILogger logger, double seconds);

    [LoggerMessage(EventId = 4823, Level = LogLevel.Warning, Message = "Live warm-up failed; the first live load runs cold.")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
