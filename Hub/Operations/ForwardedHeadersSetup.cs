using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace EventHub.Operations;

/// <summary>
/// <c>X-Forwarded-For</c>/<c>-Proto</c> from the configured proxies only (see
/// <see cref="ForwardedHeadersSettings"/>); with none configured the headers are ignored.
/// </summary>
public static class ForwardedHeadersSetup
{
    public static IServiceCollection AddEventHubForwardedHeaders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ForwardedHeadersSettings>().Bind(configuration.GetSection(ForwardedHeadersSettings.Section))
            .Validate(s => s.KnownProxies.All(p => IPAddress.TryParse(p, out _)),
                "ForwardedHeaders:KnownProxies must list IP addresses (for example 10.0.0.5).")
            .Validate(s => s.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "ForwardedHeaders:KnownNetworks must list networks in CIDR notation (for example 10.0.0.0/24).")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((options, settings) =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // ASP.NET Core trusts loopback by default; a proxy on this machine must be listed too,
            // or every local process could claim any address.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // the obsolete list is still consulted; it holds 127.0.0.0/8 by default
            options.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            foreach (var proxy in settings.Value.KnownProxies)
                if (IPAddress.TryParse(proxy, out var address)) options.KnownProxies.Add(address);
            foreach (var network in settings.Value.KnownNetworks)
                if (System.Net.IPNetwork.TryParse(network, out var parsed)) options.KnownIPNetworks.Add(parsed);
            // Walk back through the chain while each hop is a known proxy, and no further: the
            // first address a known proxy did not add itself is the client.
            options.ForwardLimit = null;
        });
        return services;
    }

    /// <summary>
    /// Before anything reads the client address (the connection limits, the logs). Only with a
    /// proxy configured: the middleware with empty lists believes every peer (that is how
    /// ASPNETCORE_FORWARDEDHEADERS_ENABLED trusts all), the opposite of what "none" must mean.
    /// </summary>
    public static IApplicationBuilder UseEventHubForwardedHeaders(this IApplicationBuilder app)
    {
        var settings = app.ApplicationServices.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value;
        return settings.KnownProxies.Length + settings.KnownNetworks.Length == 0 ? app : app.UseForwardedHeaders();
    }
}
