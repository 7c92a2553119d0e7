using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventHub.Tests.Infrastructure;

/// <summary>Mints HS256 tokens the way an identity provider would, for a hub in token mode.</summary>
public static class TestTokens
{
    /// <summary>The signing key the token-mode hubs of the tests are configured with.</summary>
    public const string SigningKey = "eventhub-tests-signing-key-0123456789abcdef";

    /// <summary>The issuer (<c>iss</c>) the token-mode hubs of the tests expect.</summary>
    public const string Issuer = "https://issuer.eventhub.test";

    /// <summary>The audience (<c>aud</c>) the token-mode hubs of the tests expect.</summary>
    public const string Audience = "eventhub-tests";

    /// <summary>Settings for a hub in token mode with <see cref="SigningKey"/>, <see cref="Issuer"/> and <see cref="Audience"/>.</summary>
    public static Dictionary<string, string?> TokenModeSettings() => new()
    {
        ["Auth:Mode"] = "Token",
        ["Auth:SigningKey"] = SigningKey,
        ["Auth:Issuer"] = Issuer,
        ["Auth:Audience"] = Audience,
        ["Auth:ClockSkew"] = "00:00:00",
    };

    /// <summary>
    /// A token for <paramref name="projects"/> (a JSON array claim; null: no claim), valid for
    /// <paramref name="lifetime"/> (default 10 minutes; negative: already expired). Each token has
    /// a subject of its own unless <paramref name="subject"/> names one, so the per-principal
    /// connection limit of one test never counts another's connections. A null
    /// <paramref name="issuer"/>, <paramref name="audience"/> or <paramref name="subject"/> leaves
    /// that claim out; <paramref name="claims"/> are added as they are (a string stays a string, an
    /// array an array).
    /// </summary>
    public static string Mint(string[]? projects, TimeSpan? lifetime = null, string key = SigningKey, string? subject = "",
        string? issuer = Issuer, string? audience = Audience, string? tokenType = null, IDictionary<string, object>? claims = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromMinutes(10));
        var all = new Dictionary<string, object>
        {
            ["jti"] = Guid.NewGuid().ToString("N"), // two tokens minted in one second still differ
        };
        if (subject is not null) all["sub"] = subject.Length > 0 ? subject : "test-user-" + Guid.NewGuid().ToString("N")[..12];
        if (projects is not null) all["projects"] = projects;
        foreach (var (name, value) in claims ?? new Dictionary<string, object>()) all[name] = value;
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = all,
            Issuer = issuer,
            Audience = audience,
            IssuedAt = expires < now ? expires.AddMinutes(-2) : now,
            NotBefore = expires < now ? expires.AddMinutes(-2) : now.AddSeconds(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        };
        if (tokenType is not null) descriptor.TokenType = tokenType;
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>
    /// Signs a payload written by hand (HS256 with <paramref name="key"/>), for tokens a library
    /// would not produce: repeated or differently-cased claim names, claims in a chosen order.
    /// </summary>
    public static string SignRaw(string payloadJson, string headerJson = """{"alg":"HS256","typ":"JWT"}""", string key = SigningKey)
    {
        var signingInput = Base64UrlEncoder.Encode(headerJson) + "." + Base64UrlEncoder.Encode(payloadJson);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }

    /// <summary>Seconds since the epoch, <paramref name="fromNow"/> from now (for payloads written by hand).</summary>
    public static long UnixTime(TimeSpan fromNow) => DateTimeOffset.UtcNow.Add(fromNow).ToUnixTimeSeconds();
}
