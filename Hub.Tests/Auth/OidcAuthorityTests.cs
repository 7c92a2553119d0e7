using System.Net;
using System.Security.Cryptography;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventHub.Tests.Auth;

/// <summary>
/// Token mode with an OIDC authority: the hub finds the signing keys through the discovery
/// document and its JWKS, served here by a tiny identity provider on a loopback port.
/// </summary>
public sealed class OidcAuthorityTests
{
    [Fact]
    public async Task Tokens_signed_with_a_key_published_in_the_authoritys_JWKS_are_accepted_and_others_refused()
    {
        using var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = "test-key-1" };
        var (idp, authority) = await StartIdentityProviderAsync(key);
        await using var _ = idp;

        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, AuthoritySettings(authority));

        var good = Mint(authority, new SigningCredentials(key, SecurityAlgorithms.RsaSha256), ["ao"]);
        await using (var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&access_token=" + good))
        {
            await db.Writer.SessionAsync("ao", 1);
            Assert.Equal("ao-1", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        }

        using var other = RSA.Create(2048);
        var forged = Mint(authority, new SigningCredentials(new RsaSecurityKey(other) { KeyId = "test-key-1" }, SecurityAlgorithms.RsaSha256), ["ao"]);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&access_token=" + forged));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        var wrongIssuer = Mint("http://127.0.0.1:9/elsewhere", new SigningCredentials(key, SecurityAlgorithms.RsaSha256), ["ao"]);
        var refusedIssuer = await Assert.ThrowsAsync<HttpRequestException>(() =>
            SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&access_token=" + wrongIssuer));
        Assert.Equal(HttpStatusCode.Unauthorized, refusedIssuer.StatusCode);
    }

    [Fact]
    public async Task With_only_a_metadata_address_the_issuer_of_the_discovery_document_is_still_required()
    {
        using var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = "test-key-1" };
        var (idp, authority) = await StartIdentityProviderAsync(key);
        await using var _ = idp;

        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, AuthoritySettings(authority, metadataOnly: true));

        var credentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256);
        await using (await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&access_token=" + Mint(authority, credentials, ["ao"])))
        {
        }
        foreach (var issuer in new[] { "http://127.0.0.1:9/elsewhere", "" })
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
                SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&access_token=" + Mint(issuer, credentials, ["ao"])));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }

    [Fact]
    public async Task Only_asymmetric_algorithms_are_accepted_from_an_authority_even_when_its_JWKS_publishes_a_shared_secret()
    {
        using var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = "test-key-1" };
        // A JWKS that (by mistake) publishes a symmetric key: anyone who reads it could sign HS256 tokens.
        var secret = RandomNumberGenerator.GetBytes(32);
        var (idp, authority) = await StartIdentityProviderAsync(key,
            new Dictionary<string, string> { ["kty"] = "oct", ["use"] = "sig", ["alg"] = "HS256", ["kid"] = "shared-1", ["k"] = Base64UrlEncoder.Encode(secret) });
        await using var _ = idp;

        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, AuthoritySettings(authority));

        await using (await SseTestClient.ConnectAsync(hub.BaseAddress,
                         "project=ao&access_token=" + Mint(authority, new SigningCredentials(key, SecurityAlgorithms.RsaSha256), ["ao"])))
        {
        }

        var publicKeyBytes = rsa.ExportSubjectPublicKeyInfo();
        var tokens = new Dictionary<string, string>
        {
            ["HS256 with the published secret"] = Mint(authority,
                new SigningCredentials(new SymmetricSecurityKey(secret) { KeyId = "shared-1" }, SecurityAlgorithms.HmacSha256), ["ao"]),
            ["HS256 with the RSA public key as the secret"] = Mint(authority,
                new SigningCredentials(new SymmetricSecurityKey(publicKeyBytes) { KeyId = "test-key-1" }, SecurityAlgorithms.HmacSha256), ["ao"]),
            ["alg none"] = Unsigned(authority),
        };
        foreach (var (name, token) in tokens)
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
                SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&access_token=" + token));
            Assert.True(refused.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {refused.StatusCode}");
        }
    }

    [Fact]
    public async Task Tokens_the_authority_signed_for_another_audience_or_of_another_type_are_refused()
    {
        using var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = "test-key-1" };
        var (idp, authority) = await StartIdentityProviderAsync(key);
        await using var _ = idp;

        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, AuthoritySettings(authority));
        var credentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256);

        // Access tokens, typed JWT (the handler's default) or at+jwt (RFC 9068), are accepted.
        foreach (var access in new[] { Mint(authority, credentials, ["ao"]), Mint(authority, credentials, ["ao"], tokenType: "at+jwt") })
            await using (await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&access_token=" + access))
            {
            }

        // Signed by the authority's own key, from its issuer, but not an access token for this hub.
        var payload = $$"""{"iss":"{{authority}}","aud":"{{TestTokens.Audience}}","sub":"oidc-user","projects":["ao"],"exp":{{TestTokens.UnixTime(TimeSpan.FromMinutes(10))}}}""";
        var tokens = new Dictionary<string, string>
        {
            ["no audience"] = Mint(authority, credentials, ["ao"], audience: null),
            ["another audience"] = Mint(authority, credentials, ["ao"], audience: "another-service"),
            ["an ID token"] = Mint(authority, credentials, ["ao"], tokenType: "id+jwt"),
            ["a logout token"] = Mint(authority, credentials, ["ao"], tokenType: "logout+jwt"),
            ["no typ"] = SignRs256("""{"alg":"RS256","kid":"test-key-1"}""", payload, rsa),
        };
        var accepted = new List<string>();
        foreach (var (name, token) in tokens)
        {
            try
            {
                await using (await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&access_token=" + token))
                    accepted.Add(name);
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.Unauthorized)
            {
            }
        }
        Assert.Empty(accepted);
        // The control: the hand-written payload under a typed header is accepted, so "no typ" is refused for its header alone.
        await using (await SseTestClient.ConnectAsync(hub.BaseAddress,
                         "project=ao&access_token=" + SignRs256("""{"alg":"RS256","kid":"test-key-1","typ":"JWT"}""", payload, rsa)))
        {
        }
    }

    private static string SignRs256(string headerJson, string payloadJson, RSA rsa)
    {
        var input = Base64UrlEncoder.Encode(headerJson) + "." + Base64UrlEncoder.Encode(payloadJson);
        var signature = rsa.SignData(System.Text.Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return input + "." + Base64UrlEncoder.Encode(signature);
    }

    [Fact]
    public async Task Auth_Algorithms_narrows_the_accepted_algorithms()
    {
        using var rsa = RSA.Create(2048);
        var key = new RsaSecurityKey(rsa) { KeyId = "test-key-1" };
        var (idp, authority) = await StartIdentityProviderAsync(key);
        await using var _ = idp;

        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, AuthoritySettings(authority, ("Auth:Algorithms:0", "PS256")));

        await using (await SseTestClient.ConnectAsync(hub.BaseAddress,
                         "project=ao&access_token=" + Mint(authority, new SigningCredentials(key, SecurityAlgorithms.RsaSsaPssSha256), ["ao"])))
        {
        }
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => SseTestClient.ConnectAsync(hub.BaseAddress,
            "project=ao&access_token=" + Mint(authority, new SigningCredentials(key, SecurityAlgorithms.RsaSha256), ["ao"])));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    /// <summary>Token mode with keys from <paramref name="authority"/> (over plain HTTP, on loopback), plus <paramref name="extra"/>.</summary>
    private static Dictionary<string, string?> AuthoritySettings(string authority, params (string Key, string Value)[] extra) =>
        AuthoritySettings(authority, metadataOnly: false, extra);

    private static Dictionary<string, string?> AuthoritySettings(string authority, bool metadataOnly, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "Token",
            ["Auth:Audience"] = TestTokens.Audience,
            ["Auth:RequireHttpsMetadata"] = "false",
        };
        if (metadataOnly) settings["Auth:MetadataAddress"] = authority + "/.well-known/openid-configuration";
        else settings["Auth:Authority"] = authority;
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    private static string Unsigned(string issuer) =>
        Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""") + "." + Base64UrlEncoder.Encode(
            $$"""{"iss":"{{issuer}}","aud":"{{TestTokens.Audience}}","sub":"oidc-user","projects":["ao"],"exp":{{TestTokens.UnixTime(TimeSpan.FromMinutes(10))}}}""") + ".";

    private static string Mint(string issuer, SigningCredentials credentials, string[] projects, string? audience = TestTokens.Audience,
        string? tokenType = null) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            TokenType = tokenType,
            Claims = new Dictionary<string, object> { ["sub"] = "oidc-user", ["projects"] = projects },
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = credentials,
        });

    /// <summary>
    /// Serves a discovery document (whose issuer is the provider's own address) and a JWKS with
    /// <paramref name="key"/>'s public half, plus <paramref name="extraKeys"/> as they are.
    /// </summary>
    private static async Task<(WebApplication App, string Authority)> StartIdentityProviderAsync(RsaSecurityKey key,
        params Dictionary<string, string>[] extraKeys)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(key);
        app.MapGet("/.well-known/openid-configuration", (HttpContext c) =>
        {
            var issuer = $"http://{c.Request.Host}";
            return Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = issuer,
                ["jwks_uri"] = issuer + "/jwks",
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            });
        });
        app.MapGet("/jwks", () => Results.Json(new Dictionary<string, object>
        {
            ["keys"] = new[]
            {
                new Dictionary<string, string> { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = jwk.Kid, ["n"] = jwk.N, ["e"] = jwk.E },
            }.Concat(extraKeys).ToArray(),
        }));
        await app.StartAsync().WithTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address);
    }
}
