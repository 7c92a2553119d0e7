using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Sse;

public sealed class SseKeepAliveTests
{
    [Fact]
    public async Task An_idle_stream_gets_keep_alive_comments_at_the_configured_interval()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Sse:KeepAliveInterval"] = "00:00:00.100" });
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress);
        await sse.WaitForCommentAsync(afterCount: 3, TimeSpan.FromSeconds(10));
        // The stream still works after keep-alives.
        await db.Writer.SessionAsync("ao", 1);
        Assert.Equal("session_created", (await sse.ReadEventAsync()).Event);
    }
}
