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

    /// <summary>Expected <c>iss</c>; not checked when empty (HS256). With an authority, the discovery document's issuer.</summary>
    public string? Issuer { get; set; }

    /// <summary>Expected <c>aud</c>; not checked when empty.</summary>
    public string? Audience { get; set; }

    /// <summary>
    /// The claim listing the projects a token may read: a JSON array of ids, or one string of ids
    /// separated by spaces or commas. <c>*</c> means every project.
    /// </summary>
    public string ProjectsClaim { get; set; } = "projects";

    /// <summary>Tolerance on <c>exp</c>/<c>nbf</c> when a token is presented (default 30 s). Open streams end at <c>exp</c> exactly.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
