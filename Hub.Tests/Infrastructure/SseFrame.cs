using System.Text.Json;

namespace EventHub.Tests.Infrastructure;

/// <summary>One SSE frame as a client parses it: its own <c>id:</c> (null when it had none), event type, data and <c>retry:</c>.</summary>
public sealed record SseFrame(string? Id, string? Event, string Data, int? Retry)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
    public JsonElement Payload => Json.GetProperty("payload");
    public string Type => Json.GetProperty("type").GetString()!;
    public string ProjectId => Json.GetProperty("projectId").GetString()!;
}
