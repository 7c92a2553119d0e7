using System.Net;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

/// <summary>
/// X-Forwarded-For is believed only from a configured proxy: anyone else could name any address
/// in it and so dodge <c>Limits:MaxConnectionsPerAddress</c> (issue 12, point 4).
/// </summary>
public sealed class ForwardedHeadersTests
{
    private static async Task<HttpResponseMessage> OpenAsync(HubServer hub, HttpClient http, string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(hub.BaseAddress, "/api/v1/events?project=ao"));
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
    }

    [Fact]
    public async Task X_Forwarded_For_from_a_peer_that_is_not_a_configured_proxy_does_not_change_the_address_counted()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Limits:MaxConnectionsPerAddress"] = "1" });
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };

        using var first = await OpenAsync(hub, http, "203.0.113.1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        // Another claimed address from the same peer is still the same peer.
        using var second = await OpenAsync(hub, http, "203.0.113.2");
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("Limits:MaxConnectionsPerAddress", await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task X_Forwarded_For_from_a_configured_proxy_is_the_address_counted()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Limits:MaxConnectionsPerAddress"] = "1",
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        });
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };

        using var first = await OpenAsync(hub, http, "203.0.113.1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var other = await OpenAsync(hub, http, "203.0.113.2");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        using var again = await OpenAsync(hub, http, "203.0.113.1");
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
    }
}
