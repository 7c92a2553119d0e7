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
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "Token",
            ["Auth:Authority"] = authority,
            ["Auth:RequireHttpsMetadata"] = "false",
        });

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

    private static string Mint(string issuer, SigningCredentials credentials, string[] projects) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Claims = new Dictionary<string, object> { ["sub"] = "oidc-user", ["projects"] = projects },
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = credentials,
        });

    private static async Task<(WebApplication App, string Authority)> StartIdentityProviderAsync(RsaSecurityKey key)
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
            },
        }));
        await app.StartAsync().WithTimeout();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address);
    }
}
