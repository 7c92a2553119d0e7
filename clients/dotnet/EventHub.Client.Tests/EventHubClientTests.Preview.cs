using EventHub.Client.Tests.Infrastructure;

namespace EventHub.Client.Tests;

public sealed partial class EventHubClientTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_first_signal_and_a_preview_arrive_as_session_updated_with_the_preview(EventHubProtocol protocol)
    {
        var p = fixture.NewProject("pv");
        await using var reader = new ClientReader(NewClient(p, protocol));
        var s = await Writer.SessionAsync(p, 1);
        await Writer.ExecuteAsync("UPDATE sessions SET first_signal_at = now() WHERE id = @s", new { s });
        await Writer.ExecuteAsync("UPDATE sessions SET preview_url = 'https://preview.example/x', preview_revision = 4 WHERE id = @s", new { s });

        var events = await reader.ReadAsync(3);

        Assert.IsType<SessionCreated>(events[0]);
        var firstSignal = Assert.IsType<SessionUpdated>(events[1]);
        Assert.Equal((s, "active", (string?)null, 0), (firstSignal.Id, firstSignal.Activity, firstSignal.PreviewUrl, firstSignal.PreviewRevision));
        var preview = Assert.IsType<SessionUpdated>(events[2]);
        Assert.Equal(("https://preview.example/x", 4), (preview.PreviewUrl, preview.PreviewRevision));
    }
}
