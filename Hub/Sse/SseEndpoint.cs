using EventHub.Observability;
using EventHub.Auth;
using EventHub.Errors;
using EventHub.Streaming;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace EventHub.Sse;

/// <summary>
/// <c>GET /api/v1/events</c>: the change stream as Server-Sent Events. It only translates the
/// query into a <see cref="StreamRequest"/> and frames what <see cref="EventStreamSource"/> yields.
/// </summary>
public static partial class SseEndpoint
{
    public const string Path = "/api/v1/events";

    public static IEndpointConventionBuilder MapEventStream(this IEndpointRouteBuilder endpoints)
    {
        // The head offset: "from now" as a fixed point a client can resume from.
        endpoints.MapGet(Path + "/head", async (EventStreamSource source, StreamAccess access, HttpContext context) =>
        {
            // Token mode: the same credentials as for streaming (an offset is no secret, but an
            // anonymous caller has no business with this hub).
            try { access.Authorize(context.User, new StreamRequest([], [], null)); }
            catch (AccessDeniedException e) { return ApiError.Create(e.StatusCode, e.Code, e.Message); }
            return Results.Json(new { offset = await source.GetHeadOffsetAsync(context.RequestAborted) });
        });
        return endpoints.MapGet(Path, HandleAsync);
    }

    private static async Task HandleAsync(HttpContext context, EventStreamSource source, StreamAccess access,
        ConnectionLimiter limiter, IOptions<SseOptions> options, TimeProvider timeProvider, EventHubMetrics metrics, ILoggerFactory loggerFactory)
    {
        var aborted = context.RequestAborted;
        EventStream stream;
        StreamGrant grant;
        IDisposable lease;
        try
        {
            // Authorization narrows the request to the caller's projects; only that is opened.
            grant = access.Authorize(context.User, ParseRequest(context.Request));
            lease = limiter.Acquire(context.User, context.Connection.RemoteIpAddress);
        }
        catch (StreamRequestException e)
        {
            await ApiError.BadRequest(e.Code, e.Message).ExecuteAsync(context);
            return;
        }
        catch (AccessDeniedException e)
        {
            await ApiError.Create(e.StatusCode, e.Code, e.Message).ExecuteAsync(context);
            return;
        }

        using var _ = lease;
        try
        {
            stream = await source.OpenAsync(grant.Request, aborted);
        }
        catch (StreamRequestException e)
        {
            await ApiError.BadRequest(e.Code, e.Message).ExecuteAsync(context);
            return;
        }
        catch (StreamResetException reset)
        {
            // Not a bad request: the client did nothing wrong, its log is gone. Tell it in-band,
            // as a frame an EventSource dispatches, with the offset to continue from.
            metrics.Reset(EventHubMetrics.Sse, reset.Reason);
            var resetWriter = StartEventStream(context, timeProvider, options.Value);
            await resetWriter.WritePreambleAsync(options.Value.RetryHint, aborted);
            await resetWriter.WriteResetAsync(reset, aborted);
            return;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }

        using var expiry = TokenExpiry.Start(grant.ExpiresAt, timeProvider);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(aborted, expiry.Token);
        await using (stream)
        {
            var writer = StartEventStream(context, timeProvider, options.Value);
            metrics.ConnectionOpened(EventHubMetrics.Sse);
            metrics.StreamOpened(EventHubMetrics.Sse);
            try
            {
                await writer.WritePreambleAsync(options.Value.RetryHint, aborted);
                await writer.WriteAsync(metrics.CountDelivered(stream.ReadAllAsync(ended.Token), EventHubMetrics.Sse), ended.Token);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The client went away: not an error. Disposing the stream leaves the fan-out.
            }
            catch (StreamResetException reset)
            {
                metrics.Reset(EventHubMetrics.Sse, reset.Reason);
                await writer.WriteResetAsync(reset, aborted);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                // The database failed during a catch-up read. The headers are sent, so no status
                // can say it: end the response; the client reconnects with its Last-Event-ID and
                // resumes exactly where it was once the database is back.
                LogDatabaseFailed(loggerFactory.CreateLogger(typeof(SseEndpoint)), e);
            }
            catch (OperationCanceledException) when (expiry.HasExpired)
            {
                // The token that authorized this stream has expired: say so in a last frame (no
                // id, so the client's Last-Event-ID stays the last event's), then end the response.
                try
                {
                    await writer.WriteErrorAsync(AccessErrorCodes.TokenExpired,
                        "The token has expired. Reconnect with a fresh token and resume from the last offset you received " +
                        "(after=<offset> or Last-Event-ID).", aborted);
                }
                catch (OperationCanceledException) when (aborted.IsCancellationRequested) { }
            }
            finally
            {
                metrics.StreamClosed(EventHubMetrics.Sse);
                metrics.ConnectionClosed(EventHubMetrics.Sse);
            }
        }
    }

    private static SseEventWriter StartEventStream(HttpContext context, TimeProvider timeProvider, SseOptions options)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return new SseEventWriter(response.BodyWriter, timeProvider, options.KeepAliveInterval);
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

    [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "An SSE stream ended because the database failed; the client will resume from its offset")]
    private static partial void LogDatabaseFailed(ILogger logger, Exception exception);
}
