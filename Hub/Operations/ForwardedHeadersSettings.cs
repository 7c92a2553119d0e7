namespace EventHub.Operations;

/// <summary>
/// Which peers may tell the hub the client's address (section <c>ForwardedHeaders</c>).
/// </summary>
/// <remarks>
/// The client address is what <c>Limits:MaxConnectionsPerAddress</c> counts. <c>X-Forwarded-For</c>
/// is a header anyone can send: believed from anyone, a client would name a fresh address on
/// every request and never reach the limit. So it is believed only from the proxies listed here,
/// and by default from none (not even loopback, which ASP.NET Core trusts by default).
/// </remarks>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Addresses of reverse proxies whose <c>X-Forwarded-For</c>/<c>X-Forwarded-Proto</c> are believed (for example <c>10.0.0.5</c>). Default: none.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of such proxies in CIDR notation (for example <c>10.0.0.0/24</c>). Default: none.</summary>
    public string[] KnownNetworks { get; set; } = [];
}
