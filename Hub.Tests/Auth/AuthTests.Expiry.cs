using System.Text.Json;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

public sealed partial class AuthTests
{
    // Short-lived real tokens: exp has whole seconds, so this leaves 3 to 4 seconds, room for a
    // connection, a write and its delivery on a loaded machine before the expiry the tests await.
    private static readonly TimeSpan ShortLife = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task When_the_token_expires_an_SSE_stream_ends_with_an_error_frame_and_a_fresh_token_resumes_without_loss()
    {
        var a = fixture.NewProject("a");
        await using (var sse = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, $"project={a}&after=0",
                         bearer: TestTokens.Mint([a], ShortLife)))
        {
            await Writer.SessionAsync(a, 1);
            var first = await sse.ReadEventAsync();
            Assert.Equal($"{a}-1", first.Payload.GetProperty("id").GetString());

            var last = await sse.ReadEventAsync(); // the stream's end, when the token expires
            Assert.Equal("stream_error", last.Event);
            Assert.Null(last.Id); // Last-Event-ID stays the last event's offset
            var error = JsonDocument.Parse(last.Data).RootElement.GetProperty("error");
            Assert.Equal("token_expired", error.GetProperty("code").GetString());
            Assert.Contains("fresh token", error.GetProperty("message").GetString());
            await Assert.ThrowsAsync<EndOfStreamException>(() => sse.ReadEventAsync());

            await Writer.SessionAsync(a, 2); // while the client has no stream
            await using var resumed = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, $"project={a}",
                lastEventId: first.Id, bearer: TestTokens.Mint([a]));
            Assert.Equal($"{a}-2", (await resumed.ReadEventAsync()).Payload.GetProperty("id").GetString());
        }
    }

    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task When_the_token_expires_a_hub_stream_completes_with_a_HubException_and_a_refreshed_token_resumes_without_loss(WireProtocol protocol)
    {
        var a = fixture.NewProject("a");
        // The client's token factory, as the .NET and TypeScript clients use it: each (re)connect asks it.
        var current = TestTokens.Mint([a], ShortLife);
        Func<Task<string?>> factory = () => Task.FromResult<string?>(current);

        await using var client = await EventsHubClient.ConnectAsync(fixture.TokenHub.BaseAddress, protocol, factory);
        var stream = await client.StreamAsync([a], after: "0");
        await Writer.SessionAsync(a, 1);
        var first = await stream.ReadAsync();

        var error = await stream.FailureAsync();
        Assert.Contains("token_expired:", error.Message);
        Assert.Contains("fresh token", error.Message);
        Assert.Contains("last event you received", error.Message);

        // The connection outlives the token: a new stream on it is refused too.
        var again = await client.StreamAsync([a], after: first.Offset);
        Assert.Contains("token_expired:", (await again.FailureAsync()).Message);

        await Writer.SessionAsync(a, 2);
        current = TestTokens.Mint([a]);
        await using var refreshed = await EventsHubClient.ConnectAsync(fixture.TokenHub.BaseAddress, protocol, factory);
        var resumed = await refreshed.StreamAsync([a], after: first.Offset);
        Assert.Equal($"{a}-2", (await resumed.ReadAsync()).SessionId);
    }
}
