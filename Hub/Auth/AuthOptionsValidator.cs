using System.Text;
using Microsoft.Extensions.Options;

namespace EventHub.Auth;

/// <summary>
/// Start-up checks of <see cref="AuthOptions"/> (run by <c>ValidateOnStart</c>, before Kestrel
/// binds): the hub refuses to start unauthenticated on a network address, and token mode needs
/// exactly one key source, an audience, an issuer (with a signing key) and a key nobody else
/// knows. Each failure names the setting to change.
/// </summary>
public sealed class AuthOptionsValidator(IConfiguration configuration) : IValidateOptions<AuthOptions>
{
    public const int MinSigningKeyBytes = 32;

    private const string GenerateKey = "Generate one with 'openssl rand -base64 32' and give the same key to the token issuer.";

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        var addresses = ListenAddresses.From(configuration);
        foreach (var malformed in addresses.Where(u => !ListenAddresses.IsWellFormed(u)))
            failures.Add($"'{malformed}' is not an address the hub can listen on (Urls or Kestrel:Endpoints:*:Url): " +
                "write scheme://host:port with a port from 0 to 65535, such as http://127.0.0.1:5080.");
        if (options.Mode == AuthMode.Open)
        {
            var exposed = addresses.Where(u => ListenAddresses.IsWellFormed(u) && !ListenAddresses.IsLoopback(u)).ToArray();
            if (exposed.Length > 0 && !options.AllowOpenOnNetwork)
                failures.Add($"Refusing to start without authentication: the hub would listen on {string.Join(", ", exposed)}, " +
                    "which is not loopback, so anyone who reaches it could read every project. Set Auth:Mode=Token " +
                    "(with Auth:SigningKey or Auth:Authority), listen on 127.0.0.1 only (Urls), or set " +
                    "Auth:AllowOpenOnNetwork=true to accept the exposure.");
        }
        else if (options.Mode == AuthMode.Token)
        {
            ValidateToken(options, failures);
        }
        else
        {
            failures.Add($"Auth:Mode must be Open or Token; it is '{options.Mode}'.");
        }
        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
            failures.Add("Auth:ClockSkew must be between 00:00:00 and 00:05:00.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateToken(AuthOptions options, List<string> failures)
    {
        var hasKey = !string.IsNullOrEmpty(options.SigningKey);
        var hasAuthority = !string.IsNullOrEmpty(options.Authority) || !string.IsNullOrEmpty(options.MetadataAddress);
        if (hasKey == hasAuthority)
            failures.Add("Auth:Mode=Token needs exactly one key source: Auth:SigningKey (HS256) or Auth:Authority " +
                "(OIDC discovery and JWKS; Auth:MetadataAddress for a non-standard discovery address).");

        // Without an audience, a token the same issuer wrote for any other service would open the stream.
        if (string.IsNullOrWhiteSpace(options.Audience))
            failures.Add("Auth:Audience is required in token mode: set it to the 'aud' the token issuer writes in tokens for this hub " +
                "(for example Auth:Audience=eventhub). Tokens for other audiences are refused.");

        if (hasKey)
        {
            // A shared key may sign tokens for several issuers (or be shared between services); the issuer says which.
            if (string.IsNullOrWhiteSpace(options.Issuer))
                failures.Add("Auth:Issuer is required with Auth:SigningKey: set it to the 'iss' the token issuer writes " +
                    "(for example Auth:Issuer=https://auth.example.com). Tokens from other issuers are refused.");
            if (Encoding.UTF8.GetByteCount(options.SigningKey!) < MinSigningKeyBytes)
                failures.Add($"Auth:SigningKey must be at least {MinSigningKeyBytes} bytes (HS256 needs a 256-bit key). {GenerateKey}");
            else if (ExampleSigningKeys.IsPublished(options.SigningKey!))
                failures.Add($"Auth:SigningKey is an example key from the documentation: anyone who has read it can sign tokens for this hub. {GenerateKey}");
            if (options.Algorithms.Length > 0)
                failures.Add("Auth:Algorithms applies to Auth:Authority only: with Auth:SigningKey the hub accepts HS256 and nothing else. Remove Auth:Algorithms.");
        }
        else
        {
            var refused = options.Algorithms.Where(a => !TokenAlgorithms.Asymmetric.Contains(a, StringComparer.Ordinal)).ToArray();
            if (refused.Length > 0)
                failures.Add($"Auth:Algorithms may list only asymmetric algorithms ({string.Join(", ", TokenAlgorithms.Asymmetric)}); " +
                    $"'{string.Join("', '", refused)}' is not one. A symmetric algorithm or 'none' would accept tokens the authority did not sign.");
        }

        if (string.IsNullOrWhiteSpace(options.ProjectsClaim))
            failures.Add("Auth:ProjectsClaim must name the claim that lists a token's projects (default 'projects').");
    }
}
