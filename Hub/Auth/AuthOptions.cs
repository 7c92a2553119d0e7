namespace EventHub.Auth;

/// <summary>
/// Authentication settings (section <c>Auth</c>), validated at start-up by
/// <see cref="AuthOptionsValidator"/>; every error names the setting to change.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary><see cref="AuthMode.Open"/> (default) or <see cref="AuthMode.Token"/>.</summary>
    public AuthMode Mode { get; set; } = AuthMode.Open;

    /// <summary>
    /// Lets open mode start although the hub listens on a non-loopback address. Anyone who can
    /// reach the port then reads every project; the hub logs a warning at start-up.
    /// </summary>
    public bool AllowOpenOnNetwork { get; set; }

    /// <summary>HS256 signing key (at least 32 bytes of UTF-8). Either this or <see cref="Authority"/>.</summary>
    public string? SigningKey { get; set; }

    /// <summary>OIDC authority: keys come from its discovery document and JWKS. Either this or <see cref="SigningKey"/>.</summary>
    public string? Authority { get; set; }

    /// <summary>Discovery document address when it is not <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public string? MetadataAddress { get; set; }

    /// <summary>Whether the authority's metadata must be fetched over HTTPS (default true).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// Expected <c>iss</c>. Required with <see cref="SigningKey"/>. With an authority, the discovery
    /// document's issuer is always checked; this adds one more accepted issuer.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>Expected <c>aud</c>; required in token mode (a token issued for another service is refused).</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// Signature algorithms accepted from an authority (default <see cref="TokenAlgorithms.AuthorityDefaults"/>);
    /// asymmetric ones only. With <see cref="SigningKey"/> only HS256 is accepted and this must be empty.
    /// </summary>
    public string[] Algorithms { get; set; } = [];

    /// <summary>
    /// The claim listing the projects a token may read (exact name): a JSON array of ids, or one
    /// string of ids separated by spaces or commas. <c>*</c> alone means every project.
    /// </summary>
    public string ProjectsClaim { get; set; } = "projects";

    /// <summary>Tolerance on <c>exp</c>/<c>nbf</c> when a token is presented (default 30 s). Open streams end at <c>exp</c> exactly.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
