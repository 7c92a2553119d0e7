using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

/// <summary>
/// The project limit against a token that grants more projects than a stream may read: a request
/// naming none ("every project of the token") is refused with a message about the token, not the
/// "N were given" of a request that named too many (it named none), and the message names the setting.
/// </summary>
public sealed class TokenProjectCountTests
{
    [Fact]
    public async Task A_request_for_all_projects_of_a_token_granting_more_than_the_limit_is_told_so_naming_the_setting()
    {
        await using var db = await TestDatabase.CreateAsync();
        var settings = TestTokens.TokenModeSettings();
        settings["Stream:MaxProjects"] = "2";
        await using var hub = await HubServer.StartAsync(db.ConnectionString, settings);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var token = TestTokens.Mint(["a", "b", "c"]);

        async Task<JsonElement> ErrorOf(string query)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events" + query);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request).WithTimeout();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").Clone();
        }

        var all = await ErrorOf("");
        Assert.Equal("too_many_projects", all.GetProperty("code").GetString());
        Assert.Equal("The token grants 3 projects, more than the 2 a stream may read at once (Stream:MaxProjects): name at most 2 of them in the request.",
            all.GetProperty("message").GetString());

        // What is not a stream is not held to the stream's limit: the head offset and the project list.
        foreach (var path in new[] { "/api/v1/events/head", "/api/v1/projects" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request).WithTimeout();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var named = await ErrorOf("?project=a&project=b&project=c");
        Assert.Equal("At most 2 projects may be requested at once (Stream:MaxProjects); 3 were given.", named.GetProperty("message").GetString());
    }
}
