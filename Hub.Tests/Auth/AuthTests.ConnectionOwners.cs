using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EventHub.SignalR;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

public sealed partial class AuthTests
{
    private const char RecordSeparator = '\u001e';

    /// <summary>
    /// A SignalR long-polling connection is a series of requests that SignalR ties together by the
    /// connection token alone; the hub authorizes a stream when it opens. A poll under another
    /// principal's valid token with a leaked connection token (it travels in URLs) read the
    /// connection's streams, a POST sent hub calls on it, a DELETE ended it. Each now gets the
    /// 404 an unknown connection gets, and the connection's own principal, with a fresh token,
    /// goes on using it.
    /// </summary>
    [Fact]
    public async Task Another_principal_cannot_poll_send_to_or_end_a_long_polling_connection_whose_token_it_has()
    {
        var a = fixture.NewProject("own");
        var owner = "owner-" + Guid.NewGuid().ToString("N")[..8];
        using var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        HttpRequestMessage Request(HttpMethod method, string path, string token, string? body = null) => new(method, path)
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "text/plain"),
        };

        // The owner's connection, as SignalR's long-polling client makes it: negotiate, the first
        // poll (answered at once), the handshake, then a call and polls until its completion (the
        // hub runs calls only after OnConnectedAsync, so the connection is bound by then).
        using var negotiation = await http.SendAsync(Request(HttpMethod.Post, "/hubs/events/negotiate?negotiateVersion=1", TestTokens.Mint([a], subject: owner)));
        Assert.Equal(HttpStatusCode.OK, negotiation.StatusCode);
        var id = JsonDocument.Parse(await negotiation.Content.ReadAsStringAsync()).RootElement.GetProperty("connectionToken").GetString()!;
        var path = $"/hubs/events?id={Uri.EscapeDataString(id)}";
        using (var first = await http.SendAsync(Request(HttpMethod.Get, path, TestTokens.Mint([a], subject: owner))))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var handshake = await http.SendAsync(Request(HttpMethod.Post, path, TestTokens.Mint([a], subject: owner), "{\"protocol\":\"json\",\"version\":1}" + RecordSeparator)))
            Assert.Equal(HttpStatusCode.OK, handshake.StatusCode);
        await CallAsync("1", TestTokens.Mint([a], subject: owner));

        // Another principal (its own valid token, another subject) with the connection token.
        var other = TestTokens.Mint([fixture.NewProject("other")]);
        using (var send = await http.SendAsync(Request(HttpMethod.Post, path, other, Invocation("2"))))
            await AssertErrorAsync(send, HttpStatusCode.NotFound, "not_found");
        using (var poll = await http.SendAsync(Request(HttpMethod.Get, path, other)))
            await AssertErrorAsync(poll, HttpStatusCode.NotFound, "not_found");
        using (var end = await http.SendAsync(Request(HttpMethod.Delete, path, other)))
            await AssertErrorAsync(end, HttpStatusCode.NotFound, "not_found");
        // The same issuer with another subject is another principal too.
        using (var sameProjects = await http.SendAsync(Request(HttpMethod.Get, path, TestTokens.Mint([a]))))
            await AssertErrorAsync(sameProjects, HttpStatusCode.NotFound, "not_found");

        // The owner, with a fresh token of its own, still has the connection (the call after the
        // refused one is "3": "2" never reached it).
        await CallAsync("3", TestTokens.Mint([a], subject: owner));

        // Its end releases the binding.
        var owners = fixture.TokenHub.Get<ConnectionOwners>();
        using (var close = await http.SendAsync(Request(HttpMethod.Delete, path, TestTokens.Mint([a], subject: owner))))
            Assert.Equal(HttpStatusCode.Accepted, close.StatusCode);
        using var released = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (owners.BelongsToAnother(id, null)) await Task.Delay(20, released.Token); // bound: the test's timeout

        static string Invocation(string invocationId) =>
            $"{{\"type\":1,\"invocationId\":\"{invocationId}\",\"target\":\"GetHeadOffset\",\"arguments\":[]}}{RecordSeparator}";

        async Task CallAsync(string invocationId, string token)
        {
            using (var send = await http.SendAsync(Request(HttpMethod.Post, path, token, Invocation(invocationId))))
                Assert.Equal(HttpStatusCode.OK, send.StatusCode);
            var received = new StringBuilder();
            for (var polls = 0; polls < 10; polls++)
            {
                using var poll = await http.SendAsync(Request(HttpMethod.Get, path, token));
                Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
                received.Append(await poll.Content.ReadAsStringAsync());
                var messages = received.ToString().Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries)
                    .Select(m => JsonDocument.Parse(m).RootElement).ToList();
                var completion = messages.FirstOrDefault(m => m.TryGetProperty("type", out var t) && t.GetInt32() == 3
                    && m.GetProperty("invocationId").GetString() == invocationId);
                if (completion.ValueKind != JsonValueKind.Undefined)
                {
                    Assert.False(completion.TryGetProperty("error", out var error), error.ToString());
                    Assert.False(messages.Any(m => m.TryGetProperty("invocationId", out var other) && other.GetString() == "2"),
                        "the other principal's call reached the connection");
                    return;
                }
            }
            Assert.Fail("No completion of call " + invocationId + " in 10 polls: " + received);
        }
    }
}
