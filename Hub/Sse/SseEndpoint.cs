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
public static class SseEndpoint
{
    public const string Path = "/api/v1/events";

    public static IEndpointConventionBuilder MapEventStream(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, HandleAsync);

    private static async Task HandleAsync(HttpContext context, EventStreamSource source, StreamAccess access,
        ConnectionLimiter limiter, IOptions<SseOptions> options, TimeProvider timeProvider)
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
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }

        using var expiry = TokenExpiry.Start(grant.ExpiresAt, timeProvider);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(aborted, expiry.Token);
        await using (stream)
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

            var writer = new SseEventWriter(response.BodyWriter, timeProvider, options.Value.KeepAliveInterval);
            try
            {
                await writer.WritePreambleAsync(options.Value.RetryHint, aborted);
                await writer.WriteAsync(stream.ReadAllAsync(ended.Token), ended.Token);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The client went away: not an error. Disposing the stream leaves the fan-out.
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
        }
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
