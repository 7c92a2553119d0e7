using System.Threading.Channels;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.SignalR;

/// <summary>
/// A stream the hub refuses frees its slot of Limits:MaxStreamsPerConnection exactly once, whether
/// the refusal is a HubException or a final signal item: refused requests neither leak slots nor
/// hand out extra ones.
/// </summary>
public sealed class StreamSlotTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task After_refused_requests_a_connection_still_gets_exactly_its_maximum_of_streams(bool signalItems)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Limits:MaxStreamsPerConnection"] = "2" });
        await db.Writer.SessionAsync("ao", 1);
        await using var client = await EventsHubClient.ConnectAsync(hub.BaseAddress);

        for (var i = 0; i < 3; i++)
            Assert.Equal(ErrorCodes.InvalidOffset, await EndCodeAsync(await OpenAsync(client, "not-an-offset", signalItems)));

        // Two streams open (each delivers the event); the third is one too many.
        var open = new List<ChannelReader<ChangeEvent>>();
        for (var i = 0; i < 2; i++)
        {
            var stream = await OpenAsync(client, "0", signalItems);
            Assert.Equal("ao-1", (await stream.ReadAsync().AsTask().WithTimeout()).SessionId);
            open.Add(stream);
        }
        Assert.Equal(ErrorCodes.TooManyStreams, await EndCodeAsync(await OpenAsync(client, "0", signalItems)));
    }

    private static Task<ChannelReader<ChangeEvent>> OpenAsync(EventsHubClient client, string after, bool signalItems) =>
        client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
            new StreamEventsRequest { Projects = ["ao"], After = after, SignalItems = signalItems }).WithTimeout();

    /// <summary>The code a refused stream ends with: its signal item's, or its HubException's prefix.</summary>
    private static async Task<string> EndCodeAsync(ChannelReader<ChangeEvent> stream)
    {
        try
        {
            var item = await stream.ReadAsync().AsTask().WithTimeout();
            Assert.True(StreamSignal.TryRead(item, out var signal), $"not a signal item: {item}");
            return signal.Code;
        }
        catch (Exception e) when ((e as HubException ?? e.InnerException as HubException) is { } hub)
        {
            // Without signal items: the code is the prefix of the hub's text.
            return hub.Message[(hub.Message.LastIndexOf("HubException: ", StringComparison.Ordinal) + 14)..].Split(':')[0];
        }
    }
}
