using EventHub.Errors;
using EventHub.Sse;
using EventHub.Streaming.Policy;

namespace EventHub.State;

/// <summary>
/// <c>GET /api/v1/state</c>: the live state of the projects and types the query selects (the
/// stream's <c>project</c> and <c>type</c> parameters, and its authorization), as
/// <c>{"offset", "unkeyedTypes", "entityKeys":{type:{"kind","fields"}}, "entities":[{"kind","key","event"}]}</c>,
/// the entities in no particular order. Each event is in the
/// stream's wire shape, written from its cached JSON.
/// </summary>
public static partial class StateEndpoint
{
    public const string Path = "/api/v1/state";

    public static IEndpointConventionBuilder MapLiveState(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, async (StreamPolicy policy, ILoggerFactory loggers, HttpContext context) =>
        {
            var (opened, refusal) = await policy.OpenStateAsync(SseEndpoint.Caller(context), SseEndpoint.ParseRequest(context.Request),
                context.RequestAborted, countsAsConnection: true);
            if (refusal is not null)
            {
                await ApiError.Create(refusal.StatusCode, refusal.Code, refusal.Message).ExecuteAsync(context);
                return;
            }
            await using var state = opened!; // read ahead of the response, which the client takes at its pace
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-store";
            try
            {
                await StateJsonWriter.WriteAsync(context.Response.BodyWriter, state.Head, state.Entities(context.RequestAborted),
                    context.RequestAborted);
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
            {
                // The status line has gone: cut the response, so the client sees a failed read and
                // not a state that ends early.
                LogStateReadFailed(loggers.CreateLogger(typeof(StateEndpoint).FullName!), e);
                context.Abort();
            }
        });

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "Reading the live state failed after its answer had begun; the response was cut")]
    private static partial void LogStateReadFailed(ILogger logger, Exception exception);
}
