using System.Net.Http.Json;
using System.Text.Json;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// An offset another log issued, got through the public API (a second database and hub, and its
/// <c>GET /api/v1/events/head</c>), so that a test of the reset does not depend on the offset's
/// format, which is opaque and changes.
/// </summary>
public static class ForeignLog
{
    public static async Task<string> OffsetAsync()
    {
        await using var db = await TestDatabase.CreateAsync("foreign_log");
        await db.Writer.SessionAsync("elsewhere", 1);
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var head = await http.GetFromJsonAsync<JsonElement>("/api/v1/events/head").WithTimeout();
        return head.GetProperty("offset").GetString()!;
    }
}
