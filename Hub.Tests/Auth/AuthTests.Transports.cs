using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

public sealed partial class AuthTests
{
    /// <summary>
    /// A SignalR long-polling connection kept the principal of its first request, and any later
    /// poll with its connection token read its streams whatever token that poll carried: a leaked
    /// connection token (it travels in URLs) gave another principal's projects. The hub takes
    /// WebSockets and Server-Sent Events only, which read under the principal of the request that
    /// reads; negotiation offers no long polling, and a poll is refused.
    /// </summary>
    [Fact]
    public async Task SignalR_offers_no_long_polling_and_refuses_a_poll()
    {
        var a = fixture.NewProject("lp");
        using var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint([a]));

        using var negotiation = await http.PostAsync("/hubs/events/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.OK, negotiation.StatusCode);
        using var body = JsonDocument.Parse(await negotiation.Content.ReadAsStringAsync());
        var transports = body.RootElement.GetProperty("availableTransports").EnumerateArray()
            .Select(t => t.GetProperty("transport").GetString()!).ToArray();
        Assert.Equal(new[] { "WebSockets", "ServerSentEvents" }, transports);

        var token = body.RootElement.GetProperty("connectionToken").GetString();
        using var handshake = await http.PostAsync($"/hubs/events?id={token}",
            new StringContent("{\"protocol\":\"json\",\"version\":1}\u001e", Encoding.UTF8));
        using var poll = await http.GetAsync($"/hubs/events?id={token}");
        Assert.NotEqual(HttpStatusCode.OK, poll.StatusCode);
    }
}
