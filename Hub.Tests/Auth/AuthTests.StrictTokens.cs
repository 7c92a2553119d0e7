using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;
using System.Net.Http.Headers;
using System.Text.Json;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

/// <summary>
/// Token mode accepts exactly the tokens it was configured for: the audience and issuer are always
/// checked, the token type is pinned, the projects claim is read verbatim by its exact name, the
/// expiry comes from the validated token, and the per-principal limit cannot be dodged by minting
/// another token.
/// </summary>
public sealed partial class AuthTests
{
    private async Task<HttpResponseMessage> GetEventsAsync(string? token, string query = "")
    {
        using var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events" + (query.Length > 0 ? "?" + query : ""));
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
    }

    public static TheoryData<string> TokensForSomethingElse => new()
    {
        "no audience", "another audience", "no issuer", "another issuer", "no subject", "an id token type", "a logout token type",
    };

    [Theory]
    [MemberData(nameof(TokensForSomethingElse))]
    public async Task A_token_without_the_configured_audience_issuer_subject_or_token_type_is_refused_with_401(string problem)
    {
        var a = fixture.NewProject("a");
        var token = problem switch
        {
            "no audience" => TestTokens.Mint([a], audience: null),
            "another audience" => TestTokens.Mint([a], audience: "another-service"),
            "no issuer" => TestTokens.Mint([a], issuer: null),
            "another issuer" => TestTokens.Mint([a], issuer: "https://issuer.elsewhere.test"),
            "no subject" => TestTokens.Mint([a], subject: null),
            "an id token type" => TestTokens.Mint([a], tokenType: "id+jwt"),
            _ => TestTokens.Mint([a], tokenType: "logout+jwt"),
        };
        var response = await GetEventsAsync(token, $"project={a}");
        await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task A_token_of_type_at_jwt_is_accepted()
    {
        var a = fixture.NewProject("a");
        await using var sse = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, $"project={a}",
            bearer: TestTokens.Mint([a], tokenType: "at+jwt"));
        await Writer.SessionAsync(a, 1);
        Assert.Equal(a, (await sse.ReadEventAsync()).ProjectId);
    }

    [Fact]
    public async Task A_token_without_a_subject_is_refused_with_a_message_that_says_so()
    {
        var response = await GetEventsAsync(TestTokens.Mint([fixture.NewProject("a")], subject: null));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement
            .GetProperty("error").GetProperty("message").GetString();
        Assert.Contains("'sub'", message);
    }

    /// <summary>
    /// A signing key long enough for HS512 (64 bytes). With a shorter one (the fixture's 43 bytes)
    /// the token library refuses HS384/HS512 for the key's size alone, so only a key this long shows
    /// whether the hub pins the algorithm itself.
    /// </summary>
    private const string LongSigningKey = "eventhub-tests-long-signing-key-0123456789abcdef0123456789abcdef!";

    /// <summary>Signs header and payload with <paramref name="key"/> under <paramref name="algorithm"/> (HS256/HS384/HS512), or not at all.</summary>
    private static string SignWith(string key, string headerJson, string payloadJson, string? algorithm)
    {
        var input = Base64UrlEncoder.Encode(headerJson) + "." + Base64UrlEncoder.Encode(payloadJson);
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var data = Encoding.ASCII.GetBytes(input);
        byte[] signature = algorithm switch
        {
            "HS256" => HMACSHA256.HashData(keyBytes, data),
            "HS384" => HMACSHA384.HashData(keyBytes, data),
            "HS512" => HMACSHA512.HashData(keyBytes, data),
            _ => [],
        };
        return input + "." + Base64UrlEncoder.Encode(signature);
    }

    [Fact]
    public async Task A_token_signed_with_the_key_under_another_algorithm_unsigned_or_without_a_type_is_refused_with_401()
    {
        Assert.True(Encoding.UTF8.GetByteCount(LongSigningKey) >= 64);
        var settings = TestTokens.TokenModeSettings();
        settings["Auth:SigningKey"] = LongSigningKey;
        await using var hub = await HubServer.StartAsync(fixture.Db.ConnectionString, settings);
        var a = fixture.NewProject("a");
        var payload = $$"""{"iss":"{{TestTokens.Issuer}}","aud":"{{TestTokens.Audience}}","sub":"user-{{a}}","projects":["{{a}}"],"exp":{{TestTokens.UnixTime(TimeSpan.FromMinutes(10))}}}""";

        // The same payload under the pinned header is accepted: below, only the header differs.
        await using (var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, $"project={a}",
                         bearer: SignWith(LongSigningKey, """{"alg":"HS256","typ":"JWT"}""", payload, "HS256")))
        {
            await Writer.SessionAsync(a, 1);
            Assert.Equal(a, (await sse.ReadEventAsync()).ProjectId);
        }

        var tokens = new Dictionary<string, string>
        {
            ["HS384 with the key"] = SignWith(LongSigningKey, """{"alg":"HS384","typ":"JWT"}""", payload, "HS384"),
            ["HS512 with the key"] = SignWith(LongSigningKey, """{"alg":"HS512","typ":"JWT"}""", payload, "HS512"),
            ["alg none"] = SignWith(LongSigningKey, """{"alg":"none","typ":"JWT"}""", payload, null),
            ["no typ"] = SignWith(LongSigningKey, """{"alg":"HS256"}""", payload, "HS256"),
        };
        var accepted = new List<string>();
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        foreach (var (name, token) in tokens)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?project={a}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
            if (response.StatusCode != HttpStatusCode.Unauthorized) { accepted.Add($"{name}: {(int)response.StatusCode}"); continue; }
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => EventsHubClient.ConnectAsync(hub.BaseAddress,
                WireProtocol.Json, () => Task.FromResult<string?>(token)));
            if (refused.StatusCode != HttpStatusCode.Unauthorized) accepted.Add($"{name} (hub): {refused.StatusCode}");
        }
        Assert.Empty(accepted);
    }

    [Fact]
    public async Task The_live_state_needs_a_valid_token_like_the_stream_and_takes_it_from_the_query()
    {
        var a = fixture.NewProject("a");
        using var http = new HttpClient { BaseAddress = fixture.TokenHub.BaseAddress };

        var none = await http.GetAsync($"/api/v1/state?project={a}").WithTimeout();
        await AssertErrorAsync(none, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);

        var expired = await http.GetAsync($"/api/v1/state?project={a}&access_token={TestTokens.Mint([a], TimeSpan.FromMinutes(-1))}").WithTimeout();
        await AssertErrorAsync(expired, HttpStatusCode.Unauthorized, "token_expired");

        // EventSource-style clients pass the token in the query, as for the stream.
        var answered = await http.GetAsync($"/api/v1/state?project={a}&access_token={TestTokens.Mint([a])}").WithTimeout();
        Assert.True(answered.StatusCode == HttpStatusCode.OK, $"{(int)answered.StatusCode} {await answered.Content.ReadAsStringAsync()}");
    }

    /// <summary>Projects claims that are not a clean list of project ids, as JSON.</summary>
    public static TheoryData<string, string> UnusableProjectsClaims => new()
    {
        { "an array element with a comma", """["{a},{b}"]""" },
        { "an array element with a space", """["{a} {b}"]""" },
        { "the wildcard next to a project", """["{a}","*"]""" },
        { "the wildcard inside a string list", "\"{a} *\"" },
        { "an id with a star", """["{a}*"]""" },
        { "a number", """[1]""" },
        { "an object", """{"{a}":true}""" },
    };

    [Theory]
    [MemberData(nameof(UnusableProjectsClaims))]
    public async Task A_projects_claim_that_is_not_a_clean_list_of_project_ids_grants_nothing_and_gets_403_invalid_projects_claim(
        string problem, string claimJson)
    {
        _ = problem;
        var a = fixture.NewProject("a");
        var b = fixture.NewProject("b");
        var claim = JsonDocument.Parse(claimJson.Replace("{a}", a).Replace("{b}", b)).RootElement;
        var token = TestTokens.Mint(projects: null, claims: new Dictionary<string, object> { ["projects"] = claim });

        // Neither a part of it nor "every project" is granted.
        foreach (var query in new[] { $"project={a}", $"project={b}", "" })
            await AssertErrorAsync(await GetEventsAsync(token, query), HttpStatusCode.Forbidden, "invalid_projects_claim");

        await using var client = await EventsHubClient.ConnectAsync(fixture.TokenHub.BaseAddress, WireProtocol.Json,
            () => Task.FromResult<string?>(token));
        var refused = await client.StreamAsync([a], after: "0");
        Assert.Contains("invalid_projects_claim:", (await refused.FailureAsync()).Message);
    }

    [Fact]
    public async Task A_projects_claim_as_one_string_is_split_on_spaces_and_commas()
    {
        var a = fixture.NewProject("a");
        var b = fixture.NewProject("b");
        var c = fixture.NewProject("c");
        var token = TestTokens.Mint(projects: null, claims: new Dictionary<string, object> { ["projects"] = $"{a} {b},{c}" });
        await using var sse = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, "", bearer: token);
        await Writer.SessionAsync(a, 1);
        await Writer.SessionAsync(b, 1);
        await Writer.SessionAsync(c, 1);
        Assert.Equal([a, b, c], (await sse.ReadEventsAsync(3)).Select(f => f.ProjectId));
    }

    [Fact]
    public async Task A_projects_claim_under_another_case_grants_nothing()
    {
        var a = fixture.NewProject("a");
        var token = TestTokens.Mint(projects: null, claims: new Dictionary<string, object> { ["Projects"] = new[] { a }, ["PROJECTS"] = "*" });
        await AssertErrorAsync(await GetEventsAsync(token, $"project={a}"), HttpStatusCode.Forbidden, "no_projects");
        await AssertErrorAsync(await GetEventsAsync(token), HttpStatusCode.Forbidden, "no_projects");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_request_for_a_project_id_outside_the_safe_characters_gets_400_invalid_project_naming_them(bool tokenMode)
    {
        var token = tokenMode ? TestTokens.Mint(["*"]) : null;
        foreach (var project in new[] { "a*b", "a b", "a,b", "*", "-a", "a/b", "é" })
        {
            using var http = new HttpClient { BaseAddress = fixture.Hub(tokenMode).BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events?project=" + Uri.EscapeDataString(project));
            if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var response = await http.SendAsync(request).WithTimeout();
            await AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_project");
            var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement
                .GetProperty("error").GetProperty("message").GetString();
            Assert.Contains("A-Z a-z 0-9", message);
        }
    }

    [Fact]
    public async Task The_stream_ends_at_the_validated_expiry_even_when_the_token_carries_an_EXP_claim_under_another_case()
    {
        var a = fixture.NewProject("a");
        // "EXP" comes first: a case-insensitive lookup of "exp" would find a year from now.
        var token = TestTokens.SignRaw($$"""
            {"EXP":{{TestTokens.UnixTime(TimeSpan.FromDays(365))}},"iss":"{{TestTokens.Issuer}}","aud":"{{TestTokens.Audience}}",
             "sub":"test-user","projects":["{{a}}"],"exp":{{TestTokens.UnixTime(ShortLife)}}}
            """);
        await using var sse = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, $"project={a}", bearer: token);
        var last = await sse.ReadEventAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("stream_error", last.Event);
        Assert.Contains("token_expired", last.Data);
    }

    /// <summary>
    /// RFC 7519 makes exp, nbf and iat NumericDates (JSON numbers): a string that reads as one was
    /// taken. RFC 7515 4.1.11: a token whose header lists critical extensions the recipient does not
    /// understand (this hub understands none) must be refused: it was accepted.
    /// </summary>
    [Theory]
    [InlineData("exp as a string")]
    [InlineData("nbf as a string")]
    [InlineData("iat as a string")]
    [InlineData("a crit header")]
    public async Task A_token_with_a_date_that_is_not_a_number_or_a_critical_extension_is_refused_with_401(string problem)
    {
        var a = fixture.NewProject("a");
        var exp = TestTokens.UnixTime(TimeSpan.FromMinutes(10));
        var now = TestTokens.UnixTime(TimeSpan.Zero);
        var dates = problem switch
        {
            "exp as a string" => $"\"exp\":\"{exp}\"",
            "nbf as a string" => $"\"exp\":{exp},\"nbf\":\"{now - 60}\"",
            "iat as a string" => $"\"exp\":{exp},\"iat\":\"{now}\"",
            _ => $"\"exp\":{exp},\"iat\":{now}",
        };
        var payload = $"{{\"iss\":\"{TestTokens.Issuer}\",\"aud\":\"{TestTokens.Audience}\",\"sub\":\"user-{a}\",\"projects\":[\"{a}\"],{dates}}}";
        var header = problem == "a crit header" ? """{"alg":"HS256","typ":"JWT","crit":["exp"]}""" : """{"alg":"HS256","typ":"JWT"}""";

        await AssertErrorAsync(await GetEventsAsync(TestTokens.SignRaw(payload, header), $"project={a}"), HttpStatusCode.Unauthorized, "unauthenticated");
        // The same claims with numbers and the plain header pass: only the problem differs.
        var fine = $"{{\"iss\":\"{TestTokens.Issuer}\",\"aud\":\"{TestTokens.Audience}\",\"sub\":\"user-{a}\",\"projects\":[\"{a}\"],\"exp\":{exp},\"iat\":{now},\"nbf\":{now - 60}}}";
        await using var sse = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, $"project={a}", bearer: TestTokens.SignRaw(fine));
    }

    [Theory]
    [InlineData("exp")]
    [InlineData("sub")]
    [InlineData("projects")]
    public async Task A_token_that_repeats_a_claim_is_refused_with_401(string repeated)
    {
        // RFC 7519 4: a parser must reject repeated names or keep the last; two readers keeping
        // different ones would see two different tokens behind one signature.
        var a = fixture.NewProject("a");
        var claims = new List<string>
        {
            $"\"iss\":\"{TestTokens.Issuer}\"", $"\"aud\":\"{TestTokens.Audience}\"", $"\"sub\":\"user-{a}\"",
            $"\"projects\":[\"{a}\"]", $"\"exp\":{TestTokens.UnixTime(ShortLife)}",
        };
        claims.Add(repeated switch
        {
            "exp" => $"\"exp\":{TestTokens.UnixTime(TimeSpan.FromDays(365))}",
            "sub" => "\"sub\":\"somebody-else\"",
            _ => "\"projects\":\"*\"",
        });
        var token = TestTokens.SignRaw("{" + string.Join(",", claims) + "}");
        await AssertErrorAsync(await GetEventsAsync(token, $"project={a}"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task Two_tokens_of_one_subject_share_the_connections_per_principal_and_another_subject_has_its_own()
    {
        var a = fixture.NewProject("a");
        var subject = "user-" + a;
        var first = TestTokens.Mint([a], subject: subject);
        var second = TestTokens.Mint([a], subject: subject);
        // A token cannot name its own limiter key either: the hub never reads it from the claims.
        var third = TestTokens.Mint([a], subject: subject, claims: new Dictionary<string, object> { ["eventhub:token_id"] = "fresh" });
        Assert.NotEqual(first, second);
        var open = new List<SseTestClient>();
        try
        {
            for (var i = 0; i < AuthFixture.MaxConnectionsPerPrincipal; i++)
                open.Add(await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, $"project={a}", bearer: i % 2 == 0 ? first : second));

            foreach (var token in new[] { first, second, third })
            {
                var response = await GetEventsAsync(token, $"project={a}");
                await AssertErrorAsync(response, HttpStatusCode.TooManyRequests, "too_many_connections_per_principal");
            }

            // Another subject is another budget.
            await using var other = await SseTestClient.ConnectAsync(fixture.TokenHub.BaseAddress, $"project={a}",
                bearer: TestTokens.Mint([a], subject: "other-" + a));

            var closed = await LimitsAndCorsTests.ConnectAndWaitForCloseAsync(fixture.TokenHub.BaseAddress, second);
            Assert.Contains("too_many_connections_per_principal", closed);
            Assert.Contains("Limits:MaxConnectionsPerPrincipal", closed);
        }
        finally
        {
            foreach (var sse in open) await sse.DisposeAsync();
        }
    }
}
