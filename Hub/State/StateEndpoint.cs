using System.Text.Json;
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
            var (items, refusal) = await policy.OpenStateAsync(SseEndpoint.Caller(context), SseEndpoint.ParseRequest(context.Request),
                context.RequestAborted);
            if (refusal is not null)
            {
                await ApiError.Create(refusal.StatusCode, refusal.Code, refusal.Message).ExecuteAsync(context);
                return;
            }
            await using var state = items!;
            var head = state.Current.Head!;
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-store";
            await using var json = new Utf8JsonWriter(context.Response.BodyWriter);
            // The head first, then each entity as its row arrives: writing overlaps the database's
            // read (the state of 10,000 entities is ~3.5 MB).
            json.WriteStartObject();
            json.WriteString("offset", head.Offset);
            json.WriteStartArray("unkeyedTypes");
            foreach (var type in head.UnkeyedTypes) json.WriteStringValue(type);
            json.WriteEndArray();
            json.WriteStartObject("entityKeys");
            foreach (var (type, key) in head.EntityKeys.OrderBy(x => x.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject(type);
                json.WriteString("kind", key.Kind);
                json.WriteStartArray("fields");
                foreach (var field in key.Fields) json.WriteStringValue(field);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteStartArray("entities");
            try
            {
                while (await state.MoveNextAsync())
                {
                    var (_, kind, key, e) = state.Current;
                    json.WriteStartObject();
                    json.WriteString("kind", kind);
                    json.WritePropertyName("key");
                    json.WriteRawValue(key!, skipInputValidation: true); // a JSON array built by PostgreSQL
                    json.WritePropertyName("event");
                    json.WriteRawValue(e!.Json.Span, skipInputValidation: true);
                    json.WriteEndObject();
                    if (json.BytesPending > 32 * 1024)
                    {
                        // Utf8JsonWriter's own FlushAsync only hands its bytes to the pipe; the
                        // pipe's flush sends them (without it the whole answer went out at the end).
                        json.Flush();
                        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
                    }
                }
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
            {
                // The status line has gone: cut the response, so the client sees a failed read and
                // not a state that ends early.
                LogStateReadFailed(loggers.CreateLogger(typeof(StateEndpoint).FullName!), e);
                context.Abort();
                return;
            }
            json.WriteEndArray();
            json.WriteEndObject();
            await json.FlushAsync(context.RequestAborted);
        });

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "Reading the live state failed after its answer had begun; the response was cut")]
    private static partial void LogStateReadFailed(ILogger logger, Exception exception);
}
