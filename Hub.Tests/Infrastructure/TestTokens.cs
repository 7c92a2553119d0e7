using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventHub.Tests.Infrastructure;

/// <summary>Mints HS256 tokens the way an identity provider would, for a hub in token mode.</summary>
public static class TestTokens
{
    /// <summary>The signing key the token-mode hubs of the tests are configured with.</summary>
    public const string SigningKey = "eventhub-tests-signing-key-0123456789abcdef";

    /// <summary>Settings for a hub in token mode with <see cref="SigningKey"/>.</summary>
    public static Dictionary<string, string?> TokenModeSettings() => new()
    {
        ["Auth:Mode"] = "Token",
        ["Auth:SigningKey"] = SigningKey,
        ["Auth:ClockSkew"] = "00:00:00",
    };

    /// <summary>
    /// A token for <paramref name="projects"/> (a JSON array claim; null: no claim), valid for
    /// <paramref name="lifetime"/> (default 10 minutes; negative: already expired).
    /// </summary>
    public static string Mint(string[]? projects, TimeSpan? lifetime = null, string key = SigningKey, string subject = "test-user")
    {
        var now = DateTime.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromMinutes(10));
        var claims = new Dictionary<string, object>
        {
            ["sub"] = subject,
            ["jti"] = Guid.NewGuid().ToString("N"), // two tokens minted in one second still differ
        };
        if (projects is not null) claims["projects"] = projects;
        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            IssuedAt = expires < now ? expires.AddMinutes(-2) : now,
            NotBefore = expires < now ? expires.AddMinutes(-2) : now.AddSeconds(-1),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
