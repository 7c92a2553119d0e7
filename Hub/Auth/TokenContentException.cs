using Microsoft.IdentityModel.Tokens;

namespace EventHub.Auth;

/// <summary>
/// A token whose signature, issuer, audience and lifetime are valid but whose content the hub
/// refuses (no <c>sub</c>, a repeated claim). The message is the hub's own words, never the
/// token's, so the 401 body may quote it.
/// </summary>
public sealed class TokenContentException(string message) : SecurityTokenValidationException(message);
