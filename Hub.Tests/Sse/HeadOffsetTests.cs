using System.Net.Http.Json;
using System.Text.Json;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.Sse;

/// <summary>"From now" as a fixed offset, so a reconnect before the first event skips nothing.</summary>
public sealed class HeadOffsetTests
{
    [Fact]
    public async Task The_head_offset_over_HTTP_and_the_hub_is_the_end_of_the_tick_of_the_last_event_and_streaming_after_it_gives_only_later_events()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        var empty = await http.GetFromJsonAsync<JsonElement>("/api/v1/events/head").WithTimeout();
        var epoch = await db.EpochAsync();
        Assert.Equal($"{epoch}-1-0", empty.GetProperty("offset").GetString()); // an empty log: the end of its first (empty) tick

        await db.Writer.SessionAsync("ao", 1);
        await db.Writer.SessionAsync("ao", 2);
        await using var all = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
        var last = (await all.ReadEventsAsync(2))[^1].Id;

        var head = (await http.GetFromJsonAsync<JsonElement>("/api/v1/events/head").WithTimeout()).GetProperty("offset").GetString();
        // The end of the tick that holds the last event: "{epoch}-{tick}-0" with the event's tick.
        Assert.Equal(last![..last!.LastIndexOf('-')] + "-0", head);
        await using var connection = new HubConnectionBuilder().WithUrl(new Uri(hub.BaseAddress, EventHubPaths.Events)).Build();
        await connection.StartAsync().WithTimeout();
        Assert.Equal(head, await connection.InvokeAsync<string>(EventHubMethods.GetHeadOffset).WithTimeout());

        // Written after the head was taken, before the client connects: not skipped.
        await db.Writer.SessionAsync("ao", 3);
        await using var fromHead = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=" + Uri.EscapeDataString(head!));
        Assert.Equal("ao-3", (await fromHead.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }
}
