using System.Text.Json;
using EventHub.Errors;
using EventHub.Sse;
using EventHub.Streaming.Policy;

namespace EventHub.State;

/// <summary>
/// <c>GET /api/v1/state</c>: the live state of the projects and types the query selects (the
/// stream's <c>project</c> and <c>type</c> parameters, and its authorization), as
/// <c>{"offset", "entities":[{"kind","key","event"}], "unkeyedTypes", "entityKeys":{type:{"kind","fields"}}}</c>. Each event is in the
/// stream's wire shape, written from its cached JSON.
/// </summary>
public static class StateEndpoint
{
    public const string Path = "/api/v1/state";

    public static IEndpointConventionBuilder MapLiveState(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, async (StreamPolicy policy, HttpContext context) =>
        {
            var (state, refusal) = await policy.GetStateAsync(SseEndpoint.Caller(context), SseEndpoint.ParseRequest(context.Request),
                context.RequestAborted);
            if (refusal is not null)
            {
                await ApiError.Create(refusal.StatusCode, refusal.Code, refusal.Message).ExecuteAsync(context);
                return;
            }
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-store";
            await using var json = new Utf8JsonWriter(context.Response.BodyWriter);
            json.WriteStartObject();
            json.WriteString("offset", state!.Offset);
            json.WriteStartArray("entities");
            foreach (var (kind, key, e) in state.Entities)
            {
                json.WriteStartObject();
                json.WriteString("kind", kind);
                json.WritePropertyName("key");
                json.WriteRawValue(key, skipInputValidation: true); // a JSON array built by PostgreSQL
                json.WritePropertyName("event");
                json.WriteRawValue(e.Json.Span, skipInputValidation: true);
                json.WriteEndObject();
                if (json.BytesPending > 16 * 1024) await json.FlushAsync(context.RequestAborted);
            }
            json.WriteEndArray();
            json.WriteStartArray("unkeyedTypes");
            foreach (var type in state.UnkeyedTypes) json.WriteStringValue(type);
            json.WriteEndArray();
            json.WriteStartObject("entityKeys");
            foreach (var (type, key) in state.EntityKeys.OrderBy(x => x.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject(type);
                json.WriteString("kind", key.Kind);
                json.WriteStartArray("fields");
                foreach (var field in key.Fields) json.WriteStringValue(field);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
            await json.FlushAsync(context.RequestAborted);
        });
}
