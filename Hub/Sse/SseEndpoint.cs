using EventHub.Observability;
using EventHub.Auth;
using EventHub.Errors;
using EventHub.Contracts;
using EventHub.Streaming;
using EventHub.Streaming.Policy;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace EventHub.Sse;

/// <summary>
/// <c>GET /api/v1/events</c>: the change stream as Server-Sent Events. It only translates the
/// query into a <see cref="StreamRequest"/> and frames what <see cref="EventStreamSource"/> yields.
/// </summary>
public static class SseEndpoint
{
    public const string Path = "/api/v1/events";

    public static IEndpointConventionBuilder MapEventStream(this IEndpointRouteBuilder endpoints)
    {
        // The head offset: "from now" as a fixed point a client can resume from. Authorized like a stream.
        endpoints.MapGet(Path + "/head", async (StreamPolicy policy, HttpContext context) =>
        {
            var (offset, refusal) = await policy.GetHeadOffsetAsync(Caller(context), context.RequestAborted);
            return refusal is null ? Results.Json(new { offset }) : ApiError.Create(refusal.StatusCode, refusal.Code, refusal.Message);
        });
        return endpoints.MapGet(Path, HandleAsync);
    }

    internal static StreamCaller Caller(HttpContext context) =>
        new(context.User, context.Connection.RemoteIpAddress, EventHubMetrics.Sse);

    private static async Task HandleAsync(HttpContext context, StreamPolicy policy, IOptions<SseOptions> options, TimeProvider timeProvider)
    {
        var aborted = context.RequestAborted;
        if (!TryParseUnnamed(context.Request, out var unnamed, out var badUnnamed))
        {
            await ApiError.Create(StatusCodes.Status400BadRequest, ErrorCodes.InvalidParameter, badUnnamed).ExecuteAsync(context);
            return;
        }
        StreamOpening opening;
        try
        {
            // One SSE response is one connection for the limits.
            opening = await policy.OpenAsync(Caller(context), ParseRequest(context.Request), countsAsConnection: true, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }

        if (opening.Refusal is { } refusal)
        {
            await ApiError.Create(refusal.StatusCode, refusal.Code, refusal.Message).ExecuteAsync(context);
            return;
        }
        if (opening.Reset is { } resetAtOpen)
        {
            // The reset signal as a frame an EventSource dispatches, with the offset to continue from.
            var resetWriter = StartEventStream(context, timeProvider, options.Value);
            await resetWriter.WritePreambleAsync(options.Value.RetryHint, startId: null, aborted);
            await resetWriter.WriteResetAsync(resetAtOpen, aborted);
            return;
        }

        await using var session = opening.Session!;
        await ServeAsync(context, session, options.Value, timeProvider, namedEvents: !unnamed);
    }

    /// <summary>
    /// Reads <c>unnamed</c>: <c>true</c> sends events without their <c>event:</c> line, so that a
    /// browser's EventSource receives every type in <c>onmessage</c>, future types included (named
    /// frames reach only listeners for their names). <c>reset</c> and <c>stream_error</c> frames
    /// keep their names either way.
    /// </summary>
    internal static bool TryParseUnnamed(HttpRequest request, out bool unnamed, out string error)
    {
        unnamed = false;
        error = "";
        if (!request.Query.TryGetValue("unnamed", out var values)) return true;
        if (values.Count == 1 && values[0] is "true" or "false")
        {
            unnamed = values[0] == "true";
            return true;
        }
        error = "The parameter unnamed takes true (events without their event: line, for an EventSource's onmessage) or false, once.";
        return false;
    }

    private const string ResumeAdvice =
        "Reconnect shortly and resume from the last offset you received (Last-Event-ID or after=<offset>).";

    /// <summary>Writes an opened session's events as the response, and its end as a last frame where it has one.</summary>
    /// <remarks>Also the live warm-up's (<see cref="Operations.LiveWarmUp"/>): the same code as every client's stream.</remarks>
    internal static async Task ServeAsync(HttpContext context, StreamSession session, SseOptions options, TimeProvider timeProvider,
        bool namedEvents = true)
    {
        var aborted = context.RequestAborted;
        // The stream ends by itself when the host stops, but a write can be parked in a flush for
        // a client that no longer reads (its socket open, its window full), and Kestrel waits for
        // such responses up to the whole shutdown timeout. A moment after stopping begins, cut
        // the connection instead: the client resumes from its last offset anyway.
        using var cutAtStop = new CutAtStop(context);
        var writer = StartEventStream(context, timeProvider, options, namedEvents);
        StreamEnd end;
        try
        {
            await writer.WritePreambleAsync(options.RetryHint, session.FromNowOffset, aborted);
            end = await session.RunAsync(writer.WriteAsync, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return; // the client went away before the first frame
        }
        try
        {
            switch (end.Reason)
            {
                case StreamEndReason.Reset:
                    await writer.WriteResetAsync(end.Reset!, aborted);
                    break;
                case StreamEndReason.TokenExpired:
                    // A last frame with no id, so the client's Last-Event-ID stays the last event's.
                    await writer.WriteErrorAsync(AccessErrorCodes.TokenExpired,
                        "The token has expired. Reconnect with a fresh token and resume from the last offset you received " +
                        "(after=<offset> or Last-Event-ID).", aborted);
                    break;
                // The headers are sent, so no status can say it: a last frame does, with no id (the
                // client's Last-Event-ID stays the last event's), as the hub's streams end with a
                // signal item. A response that ended with none (a stream from 0 while the database
                // was down) had a client reconnect at once, as often as it liked, and learn nothing.
                case StreamEndReason.DatabaseUnavailable:
                    await writer.WriteErrorAsync(ErrorCodes.Unavailable,
                        $"The event log is unavailable right now. {ResumeAdvice}", aborted);
                    break;
                case StreamEndReason.Failed:
                    await writer.WriteErrorAsync(ErrorCodes.InternalError, $"The stream failed on the server. {ResumeAdvice}", aborted);
                    break;
                // The hub stopping: the response ends (its completion is the final frame); the
                // client reconnects at once, to another node or to this one once it is back.
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested) { }
    }

    /// <summary>
    /// Aborts the request's connection a moment after the host begins to stop, unless the
    /// request has ended by then. Race guarded: Kestrel reuses an HttpContext for the next
    /// request once this one returns, so the abort and the end are decided under one lock, and
    /// disposing (when the handler returns) settles it before the context can be reused.
    /// </summary>
    private sealed class CutAtStop : IDisposable
    {
        /// <summary>How long a stream may take to end by itself once the host stops.</summary>
        private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(250);

        private readonly Lock _gate = new();
        private readonly HttpContext _context;
        private readonly CancellationTokenRegistration _registration;
        private bool _ended;

        public CutAtStop(HttpContext context)
        {
            _context = context;
            _registration = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping
                .Register(static state => _ = ((CutAtStop)state!).AbortSoonAsync(), this);
        }

        private async Task AbortSoonAsync()
        {
            await Task.Delay(Grace);
            lock (_gate)
                if (!_ended) _context.Abort();
        }

        public void Dispose()
        {
            lock (_gate) _ended = true;
            _registration.Dispose();
        }
    }

    private static SseEventWriter StartEventStream(HttpContext context, TimeProvider timeProvider, SseOptions options, bool namedEvents = true)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return new SseEventWriter(response.BodyWriter, timeProvider, options.KeepAliveInterval, namedEvents);
    }

    /// <summary>
    /// Reads <c>project</c>, <c>type</c> (both repeatable) and the offset: <c>Last-Event-ID</c>, else
    /// <c>after</c>. A reconnecting EventSource sends the header to the original URL, so the
    /// header is the newer position and wins.
    /// </summary>
    internal static StreamRequest ParseRequest(HttpRequest request)
    {
        var query = request.Query;
        string? after = null;
        var lastEventId = request.Headers["Last-Event-ID"];
        if (!StringValues.IsNullOrEmpty(lastEventId))
            after = lastEventId.Count == 1 ? lastEventId[0] : string.Join(",", lastEventId.ToArray());
        else if (query.TryGetValue("after", out var afterValues))
            after = afterValues.Count == 1 ? afterValues[0] ?? "" : string.Join(",", afterValues.ToArray());
        return new StreamRequest(Values(query["project"]), Values(query["type"]), after);
    }

    private static string[] Values(StringValues values) => values.Select(v => v ?? "").ToArray();
}
