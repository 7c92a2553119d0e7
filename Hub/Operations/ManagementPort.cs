using EventHub.Auth;
using Microsoft.Extensions.Options;

namespace EventHub.Operations;

/// <summary>
/// The management port: Kestrel listens on <c>Management:Urls</c> besides the public addresses,
/// <c>/metrics</c> is served there and only there, and nothing else is served there.
/// </summary>
/// <remarks>
/// Which port a request came in on is decided by the socket (<see cref="ConnectionInfo.LocalPort"/>),
/// not by routing on the Host header: a client names any Host it likes, so
/// <c>RequireHost("*:9464")</c> alone would serve the metrics on the public port to a request that
/// says <c>Host: hub:9464</c> (the "forged Host" attack), and it would refuse a scraper that
/// reaches the port through a port mapping (Docker <c>-p 9100:9464</c>) and says <c>:9100</c>.
/// </remarks>
public static class ManagementPort
{
    /// <summary>
    /// Adds the management URLs to the addresses Kestrel binds. Runs before the host is built,
    /// after configuration is complete. Returns the management ports (empty: not configured).
    /// </summary>
    public static IReadOnlySet<int> Configure(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var managementUrls = Split(configuration[$"{ManagementOptions.Section}:{nameof(ManagementOptions.Urls)}"]);
        if (managementUrls.Count == 0) return new HashSet<int>();

        var publicUrls = PublicUrls(configuration);
        var ports = new HashSet<int>();
        foreach (var url in managementUrls)
        {
            var port = PortOf(url) ?? throw new OptionsValidationException(ManagementOptions.Section, typeof(ManagementOptions),
                [$"Management:Urls: '{url}' needs an explicit port (for example http://127.0.0.1:9464)."]);
            if (publicUrls.Any(u => PortOf(u) == port))
                throw new OptionsValidationException(ManagementOptions.Section, typeof(ManagementOptions),
                    [$"Management:Urls: port {port} is also a public listen port; the management port must be a port of its own."]);
            ports.Add(port);
        }

        var endpoints = configuration.GetSection("Kestrel:Endpoints");
        if (endpoints.GetChildren().Any())
        {
            // Kestrel:Endpoints replaces "urls" altogether: add the management URLs as endpoints.
            builder.Configuration.AddInMemoryCollection(managementUrls.Select((url, i) =>
                new KeyValuePair<string, string?>($"Kestrel:Endpoints:EventHubManagement{i}:Url", url)));
        }
        else
        {
            // "urls" wins over http_ports/https_ports, so the public ports move into it.
            builder.WebHost.UseUrls([.. publicUrls, .. managementUrls]);
        }
        return ports;
    }

    /// <summary>Serves the management ports' paths there only, and nothing else there.</summary>
    public static void UseManagementPortGate(this IApplicationBuilder app, IReadOnlySet<int> ports)
    {
        app.Use((context, next) =>
        {
            var onManagementPort = ports.Contains(context.Connection.LocalPort);
            var isManagementPath = context.Request.Path.Equals(Observability.EventHubMetricsSetup.Path, StringComparison.OrdinalIgnoreCase);
            if (onManagementPort != isManagementPath)
            {
                // Its own message: the status code pages' one lists the API, which this port does not serve (or
                // says nothing is served at /metrics, which the management port does serve).
                var path = context.Request.PathBase + context.Request.Path;
                return EventHub.Errors.ApiError.Create(StatusCodes.Status404NotFound, EventHub.Contracts.ErrorCodes.NotFound, onManagementPort
                    ? $"Nothing is served at {path} on the management port (Management:Urls): it serves only {Observability.EventHubMetricsSetup.Path}; the API is on the hub's public addresses."
                    : $"{path} is served on the management port only (Management:Urls), not on the hub's public addresses.").ExecuteAsync(context);
            }
            return next(context);
        });
    }

    // The public addresses as the host would bind them without us (see ListenAddresses).
    private static List<string> PublicUrls(IConfiguration configuration)
    {
        var urls = Split(configuration["urls"]);
        if (urls.Count > 0) return urls;
        var fromPorts = Split(configuration["http_ports"]).Select(p => $"http://*:{p}")
            .Concat(Split(configuration["https_ports"]).Select(p => $"https://*:{p}")).ToList();
        return fromPorts.Count > 0 ? fromPorts : [ListenAddresses.Default];
    }

    /// <summary>The explicit port of a listen URL (null without one, or for port 0).</summary>
    private static int? PortOf(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return null;
        var authority = url[(scheme + 3)..];
        var slash = authority.IndexOf('/');
        if (slash >= 0) authority = authority[..slash];
        var colon = authority.LastIndexOf(':');
        if (colon <= authority.LastIndexOf(']')) return null; // none, or inside an IPv6 literal
        return int.TryParse(authority[(colon + 1)..], System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535 ? port : null;
    }

    private static List<string> Split(string? list) =>
        (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
