using Microsoft.IdentityModel.Tokens;

namespace EventHub.Auth;

/// <summary>
/// The signature algorithms and token types the hub accepts. Pinned, so that the token cannot
/// choose how it is checked: <c>alg: none</c>, or HS256 "signed" with a public key the attacker
/// can read (the authority's RSA key used as an HMAC secret), or a symmetric key that a JWKS
/// publishes by mistake.
/// </summary>
public static class TokenAlgorithms
{
    /// <summary>With <see cref="AuthOptions.SigningKey"/>: HS256 only.</summary>
    public static readonly string[] SigningKey = [SecurityAlgorithms.HmacSha256];

    /// <summary>Asymmetric algorithms an authority may use; <see cref="AuthOptions.Algorithms"/> picks among these.</summary>
    public static readonly string[] Asymmetric =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    /// <summary>With an authority, when <see cref="AuthOptions.Algorithms"/> is empty: every asymmetric one.</summary>
    public static IReadOnlyList<string> AuthorityDefaults => Asymmetric;

    /// <summary>
    /// Header <c>typ</c> values of access tokens: <c>JWT</c> (most issuers) and <c>at+jwt</c>
    /// (RFC 9068). Other kinds of JWT an identity provider signs with the same key (ID tokens typed
    /// <c>id+jwt</c>, logout tokens <c>logout+jwt</c>, ...) are refused; so is a token without <c>typ</c>.
    /// </summary>
    public static readonly string[] TokenTypes = ["JWT", "jwt", "at+jwt", "application/at+jwt"];
}
