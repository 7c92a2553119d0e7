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
    /// Whether a listen URL reaches only this machine: <c>localhost</c>, <c>127.0.0.0/8</c> and
    /// <c>[::1]</c> are loopback; <c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>, host names and
    /// every other address are not. Unix sockets and named pipes are local.
    /// </summary>
    public static bool IsLoopback(string url)
    {
        if (url.StartsWith("http://unix:", StringComparison.OrdinalIgnoreCase) ||
            url.StartsWith("https://unix:", StringComparison.OrdinalIgnoreCase) ||
            url.StartsWith("http://pipe:", StringComparison.OrdinalIgnoreCase))
            return true;
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0) return false;
        var rest = url[(schemeEnd + 3)..];
        var slash = rest.IndexOf('/');
        if (slash >= 0) rest = rest[..slash];
        string host;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0) return false;
            host = rest[1..close];
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            host = colon >= 0 ? rest[..colon] : rest;
        }
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
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
