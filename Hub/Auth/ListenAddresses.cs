using System.Net;

namespace EventHub.Auth;

/// <summary>
/// The addresses the hub is configured to listen on, read from configuration the way the host
/// reads them (<c>urls</c>/<c>ASPNETCORE_URLS</c>, <c>http_ports</c>/<c>https_ports</c>,
/// <c>Kestrel:Endpoints:*:Url</c>), and whether they are all loopback.
/// </summary>
public static class ListenAddresses
{
    /// <summary>Kestrel's address when nothing is configured.</summary>
    public const string Default = "http://localhost:5000";

    public static IReadOnlyList<string> From(IConfiguration configuration)
    {
        var urls = new List<string>();
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
            if (endpoint["Url"] is { Length: > 0 } url) urls.Add(url);
        if (configuration["urls"] is { Length: > 0 } list)
            urls.AddRange(Split(list));
        // http_ports/https_ports (ASPNETCORE_HTTP_PORTS, set by the official container images)
        // bind every interface.
        foreach (var key in new[] { "http_ports", "https_ports" })
            if (configuration[key] is { Length: > 0 } ports)
                urls.AddRange(Split(ports).Select(p => $"http://*:{p}"));
        if (urls.Count == 0) urls.Add(Default);
        return urls;
    }

    private static IEnumerable<string> Split(string list) =>
        list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Whether a listen URL reaches only this machine, decided by Kestrel's own rules
    /// (<see cref="BindingAddress.Parse"/>, then as Kestrel's address binder treats it): a Unix
    /// socket (<c>http://unix:/path</c>) or named pipe is local; <c>localhost</c> binds the loopback
    /// interfaces; an IP literal binds that address; anything else (<c>*</c>, <c>+</c>, any host
    /// name, <c>http://unix:5080</c> without a path) makes Kestrel bind every interface.
    /// </summary>
    public static bool IsLoopback(string url)
    {
        BindingAddress address;
        try { address = BindingAddress.Parse(url); }
        catch (FormatException) { return false; }
        if (address.IsUnixPipe || address.IsNamedPipe) return true;
        if (address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        var host = address.Host;
        if (host.Length > 1 && host[0] == '[' && host[^1] == ']') host = host[1..^1];
        // Any other host name is not resolved by Kestrel: it binds IPv6Any (every interface).
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>
    /// Whether Kestrel can listen on a URL as written: a scheme, a host and, if there is a port, a
    /// number from 0 to 65535. Kestrel's parser reads <c>http://127.0.0.1:notaport</c> as a host
    /// named <c>127.0.0.1:notaport</c> with the scheme's default port, and binds every interface on
    /// port 80; a URL without a scheme fails only when Kestrel binds.
    /// </summary>
    public static bool IsWellFormed(string url)
    {
        BindingAddress address;
        try { address = BindingAddress.Parse(url); }
        catch (FormatException) { return false; }
        if (address.IsUnixPipe || address.IsNamedPipe) return true;
        var authority = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        if (authority.IndexOf('/') is var slash and >= 0) authority = authority[..slash];
        var colon = authority.LastIndexOf(':');
        if (colon < 0 || authority.EndsWith(']')) return true; // no port: the scheme's
        return int.TryParse(authority[(colon + 1)..], System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var port) && port <= 65535;
    }

    /// <summary>Whether a browser origin is on this machine (open mode's default CORS policy).</summary>
    public static bool IsLoopbackOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) &&
        (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) &&
        (uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether a configured CORS origin is an exact <c>scheme://host[:port]</c>.</summary>
    public static bool IsOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) &&
        (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) &&
        uri.AbsolutePath == "/" && !origin.EndsWith('/') && string.IsNullOrEmpty(uri.Query);
}
