using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Sse;

public sealed class SseShutdownTests
{
    [Fact]
    public async Task Stopping_the_hub_ends_open_streams_at_once_so_clients_can_reconnect_elsewhere()
    {
        await using var db = await TestDatabase.CreateAsync();
        // A shutdown timeout far beyond the test's bound: if streams held the shutdown, the stop
        // below would wait for it and the bound would fail the test.
        var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["HostOptions:ShutdownTimeout"] = "00:02:00" });
        await using var live = await SseTestClient.ConnectAsync(hub.BaseAddress);
        await using var catchingUp = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        await db.Writer.SessionAsync("ao", 1);
        await live.ReadEventAsync();
        await catchingUp.ReadEventAsync();

        await hub.DisposeAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(15));

        await Assert.ThrowsAsync<EndOfStreamException>(() => live.ReadEventAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<EndOfStreamException>(() => catchingUp.ReadEventAsync(TimeSpan.FromSeconds(10)));
    }
}
