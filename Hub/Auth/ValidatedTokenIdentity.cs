using System.Security.Claims;

namespace EventHub.Auth;

/// <summary>
/// What the hub took from a validated bearer token: the principal (issuer and subject), the
/// expiry the token was validated with, and its projects. Added to the principal when the token
/// is validated (<see cref="TokenContent"/>); the hub reads these, never the token's claims.
/// </summary>
/// <remarks>
/// A typed identity rather than claims of a reserved name: a token can carry any claim name it
/// likes (<c>eventhub:token_id</c>, <c>EXP</c>, ...) and a lookup by name could pick the
/// token's own value; it cannot make an object of this type. It has no claims and no
/// authentication type, so <see cref="ClaimsPrincipal.Identity"/> stays the token's identity.
/// </remarks>
public sealed class ValidatedTokenIdentity : ClaimsIdentity
{
    public ValidatedTokenIdentity(string issuer, string subject, DateTimeOffset expiresAt, ProjectScope projects)
    {
        Issuer = issuer;
        Subject = subject;
        ExpiresAt = expiresAt;
        Projects = projects;
    }

    /// <summary>The token's <c>iss</c>, as validated.</summary>
    public string Issuer { get; }

    /// <summary>The token's <c>sub</c>.</summary>
    public string Subject { get; }

    /// <summary>The expiry the token was validated against (its <c>exp</c>, read by the token handler).</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The projects of the token's projects claim.</summary>
    public ProjectScope Projects { get; }

    /// <summary>The validated token's identity of <paramref name="user"/>, or null (open mode, no token).</summary>
    public static ValidatedTokenIdentity? Of(ClaimsPrincipal? user) =>
        user?.Identities.OfType<ValidatedTokenIdentity>().FirstOrDefault();

    // A copy of the principal must keep the type (the base class would copy it as a plain ClaimsIdentity).
    public override ClaimsIdentity Clone() => new ValidatedTokenIdentity(Issuer, Subject, ExpiresAt, Projects);
}
