using System.Text;
using Microsoft.Extensions.Options;

namespace EventHub.Auth;

/// <summary>
/// Start-up checks of <see cref="AuthOptions"/> (run by <c>ValidateOnStart</c>, before Kestrel
/// binds): the hub refuses to start unauthenticated on a network address, and token mode needs
/// exactly one key source. Each failure names the setting to change.
/// </summary>
public sealed class AuthOptionsValidator(IConfiguration configuration) : IValidateOptions<AuthOptions>
{
    public const int MinSigningKeyBytes = 32;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        if (options.Mode == AuthMode.Open)
        {
            var exposed = ListenAddresses.From(configuration).Where(u => !ListenAddresses.IsLoopback(u)).ToArray();
            if (exposed.Length > 0 && !options.AllowOpenOnNetwork)
                failures.Add($"Refusing to start without authentication: the hub would listen on {string.Join(", ", exposed)}, " +
                    "which is not loopback, so anyone who reaches it could read every project. Set Auth:Mode=Token " +
                    "(with Auth:SigningKey or Auth:Authority), listen on 127.0.0.1 only (Urls), or set " +
                    "Auth:AllowOpenOnNetwork=true to accept the exposure.");
        }
        else if (options.Mode == AuthMode.Token)
        {
            var hasKey = !string.IsNullOrEmpty(options.SigningKey);
            var hasAuthority = !string.IsNullOrEmpty(options.Authority) || !string.IsNullOrEmpty(options.MetadataAddress);
            if (hasKey == hasAuthority)
                failures.Add("Auth:Mode=Token needs exactly one key source: Auth:SigningKey (HS256) or Auth:Authority " +
                    "(OIDC discovery and JWKS; Auth:MetadataAddress for a non-standard discovery address).");
            if (hasKey && Encoding.UTF8.GetByteCount(options.SigningKey!) < MinSigningKeyBytes)
                failures.Add($"Auth:SigningKey must be at least {MinSigningKeyBytes} bytes (HS256 needs a 256-bit key).");
            if (string.IsNullOrWhiteSpace(options.ProjectsClaim))
                failures.Add("Auth:ProjectsClaim must name the claim that lists a token's projects (default 'projects').");
        }
        else
        {
            failures.Add($"Auth:Mode must be Open or Token; it is '{options.Mode}'.");
        }
        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
            failures.Add("Auth:ClockSkew must be between 00:00:00 and 00:05:00.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
