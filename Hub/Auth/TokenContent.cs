using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace EventHub.Auth;

/// <summary>
/// Reads what the hub needs from a token the handler has just validated: issuer, subject and
/// projects by their exact names from the token's own JSON, the expiry from the validated token.
/// </summary>
/// <remarks>
/// The principal's claims are not the token: a JSON array arrives there as one claim per element,
/// so <c>["a b"]</c> and <c>"a b"</c> look the same, and name lookups on a principal have been
/// case-insensitive (<c>"Projects"</c> answering for <c>"projects"</c>). The payload's JSON
/// keeps both distinctions. Its bytes are the signed bytes the handler parsed.
/// </remarks>
public static class TokenContent
{
    public const string IssuerClaim = "iss";
    public const string SubjectClaim = "sub";

    /// <summary>The hub's view of <paramref name="token"/>, or a <see cref="TokenContentException"/> saying why there is none.</summary>
    public static ValidatedTokenIdentity Read(SecurityToken? token, string projectsClaim, int maxProjectIdLength)
    {
        if (token is not JsonWebToken outer)
            throw new TokenContentException("The bearer token is not a signed JWT. Send a JWT issued for this hub.");
        var jwt = outer.InnerToken ?? outer;

        // RFC 7515 4.1.11: critical extensions the recipient does not understand make the token
        // invalid; this hub understands none (the handler ignored the parameter).
        using (var header = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedHeader)))
            if (header.RootElement.ValueKind == JsonValueKind.Object && header.RootElement.TryGetProperty("crit", out _))
                throw new TokenContentException("The token's header lists critical extensions ('crit'), which this hub does not understand. Ask its issuer for a token without them.");

        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
        var root = payload.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new TokenContentException("The token's payload is not a JSON object. Send a JWT issued for this hub.");

        // RFC 7519 section 4: a repeated claim name must be refused, or only the last one kept.
        // Refused: two readers of one signed token (the handler, this code) must not see two tokens.
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
            if (!names.Add(property.Name))
                throw new TokenContentException($"The token repeats the claim '{Printable(property.Name)}'. Ask its issuer for a token in which each claim appears once.");

        // RFC 7519 4.1.4-4.1.6: NumericDates, JSON numbers. The handler also took a string that
        // reads as one ("exp":"1796000000").
        foreach (var date in new[] { "exp", "nbf", "iat" })
            if (root.TryGetProperty(date, out var value) && value.ValueKind != JsonValueKind.Number)
                throw new TokenContentException($"The token's '{date}' is not a NumericDate (a JSON number of seconds). Ask its issuer for a standard JWT.");

        var issuer = root.TryGetProperty(IssuerClaim, out var iss) && iss.ValueKind == JsonValueKind.String ? iss.GetString()! : "";
        if (issuer.Length == 0)
            throw new TokenContentException("The token has no 'iss' claim. Send a token from the issuer this hub is configured for.");
        var subject = root.TryGetProperty(SubjectClaim, out var sub) && sub.ValueKind == JsonValueKind.String ? sub.GetString()! : "";
        if (subject.Length == 0)
            throw new TokenContentException("The token has no 'sub' claim (a non-empty string). The hub counts connections per issuer and subject; ask the issuer for a token with 'sub'.");

        var projects = ProjectScope.FromClaim(root.TryGetProperty(projectsClaim, out var claim) ? claim.Clone() : null, maxProjectIdLength);
        // ValidTo is the exp the handler validated; RequireExpirationTime makes it present.
        var expiresAt = new DateTimeOffset(DateTime.SpecifyKind(jwt.ValidTo, DateTimeKind.Utc));
        return new ValidatedTokenIdentity(issuer, subject, expiresAt, projects);
    }

    private static string Printable(string s)
    {
        var clean = new string(s.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length > 40 ? clean + "…" : clean;
    }
}
