namespace EventHub.Auth;

/// <summary>
/// The DNS-rebinding guard's settings (section <c>Security</c>), read by <see cref="CrossSiteGuard"/>.
/// Browser origins are <see cref="CorsSettings.AllowedOrigins"/> (section <c>Cors</c>).
/// </summary>
public sealed class CrossSiteOptions
{
    public const string Section = "Security";

    /// <summary>
    /// Host names (the <c>Host</c> header without its port) the hub answers to, besides the ones
    /// it always answers to: <c>localhost</c> and IP literals (<c>127.0.0.1</c>, <c>10.1.2.3</c>,
    /// <c>[::1]</c>). Each entry is an exact name (<c>hub.example.com</c>) or <c>*.example.com</c>
    /// (any subdomain, not <c>example.com</c> itself); <c>*</c> alone turns the Host check off,
    /// for a proxy in front that checks Host itself. Default: none. Required (at start-up) when
    /// the hub listens on a network address, where clients use names.
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];
}
