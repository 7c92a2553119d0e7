using System.Net;
using System.Net.Http.Headers;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

public sealed partial class AuthTests
{
    [Fact]
    public async Task A_crafted_path_cannot_forge_a_log_line_through_the_rejected_token_entry()
    {
        var marker = fixture.NewProject("forged");
        using var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress };
        // Percent-encoded CR/LF in the path: decoded, they would end the entry and start a forged one.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events/x%0D%0A2026-12-02 info: {marker} granted%0A");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        var response = await http.SendAsync(request).WithTimeout();
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        var rejected = Assert.Single(fixture.TokenHubLogs.Entries, e => e.EventId.Id == 8001 && e.Contains(marker));
        Assert.DoesNotContain('\r', rejected.Message);
        Assert.DoesNotContain('\n', rejected.Message);
        Assert.DoesNotContain('\r', rejected.Values);
        Assert.DoesNotContain('\n', rejected.Values);
    }
}
