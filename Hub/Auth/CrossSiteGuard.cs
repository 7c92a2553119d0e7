using System.Net;
using EventHub.Contracts;
using EventHub.Errors;
using EventHub.Observability;
using EventHub.Sse;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace EventHub.Auth;

/// <summary>
/// Refuses, before anything is read from the log, the two ways a web page on another site reads
/// the stream through the browser of someone who can reach the hub (docs/security.md, "Cross-site
/// protection"):
/// <list type="bullet">
/// <item><b>Cross-site WebSocket hijacking.</b> Browsers do not apply CORS to WebSockets (nor to
/// the request part of a "simple" request), so CORS alone lets any page open
/// <c>ws://127.0.0.1:5080/hubs/events</c> and stream every project in open mode. On the stream
/// paths a request with an <c>Origin</c> gets 403 unless that origin is one the CORS policy allows
/// or the hub's own.</item>
/// <item><b>DNS rebinding.</b> A page on <c>evil.example</c> whose name then resolves to
/// 127.0.0.1 reads the hub as same-origin: no Origin is sent, but the <c>Host</c> header still
/// says <c>evil.example</c>. Every request (but the health probes) whose Host is not
/// <c>localhost</c>, an IP literal or a name in <c>Security:AllowedHosts</c> gets 403.</item>
/// </list>
/// Requests without an Origin (curl, the .NET and Node clients) pass the first check untouched.
/// </summary>
public sealed partial class CrossSiteGuard
{
    public const string HostNotAllowed = ErrorCodes.HostNotAllowed;
    public const string OriginNotAllowed = ErrorCodes.OriginNotAllowed;

    // Orchestrators probe by the pod's address or a name the operator never lists, and a probe's
    // answer tells a rebinding page nothing it can use.
    private static readonly PathString[] HostCheckExempt = [new("/healthz"), new("/readyz")];

    private readonly RequestDelegate _next;
    private readonly StringSegment[] _hosts;
    private readonly bool _anyHost;
    private readonly CorsPolicy _cors;
    private readonly ILogger<CrossSiteGuard> _logger;

    public CrossSiteGuard(RequestDelegate next, IOptions<CrossSiteOptions> options, IOptions<CorsOptions> cors,
        ILogger<CrossSiteGuard> logger)
    {
        _next = next;
        _hosts = options.Value.AllowedHosts.Select(h => new StringSegment(h.Trim())).Where(h => h.Length > 0).ToArray();
        _anyHost = _hosts.Any(h => h == "*");
        // One list of browser origins for HTTP (CORS) and WebSockets (here): what the CORS
        // policy allows, i.e. loopback origins and Cors:AllowedOrigins, in every mode.
        _cors = cors.Value.GetPolicy(AuthSetup.CorsPolicy)
            ?? throw new InvalidOperationException($"The CORS policy '{AuthSetup.CorsPolicy}' is not registered.");
        _logger = logger;
        if (_anyHost) LogHostCheckOff(logger);
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!_anyHost && !IsExempt(request.Path) && !IsAllowedHost(request.Host))
        {
            LogHostRefused(_logger, LogValue.Of(request.Host.Value), LogValue.Of(request.Path));
            await ApiError.Create(StatusCodes.Status403Forbidden, HostNotAllowed,
                $"This hub does not answer to the host name '{LogValue.Of(request.Host.Host)}' (a page on another site can point " +
                "that name at this hub: DNS rebinding). Address the hub as localhost or by IP address, or add the name to " +
                "Security:AllowedHosts (for example Security:AllowedHosts:0=hub.example.com).").ExecuteAsync(context);
            return;
        }
        if (IsStreamPath(request.Path) && request.Headers.Origin is { Count: > 0 } origin && !IsAllowedOrigin(origin, request.Host))
        {
            LogOriginRefused(_logger, LogValue.Of(origin.ToString()), LogValue.Of(request.Path));
            await ApiError.Create(StatusCodes.Status403Forbidden, OriginNotAllowed,
                $"Browser pages from the origin '{LogValue.Of(origin.ToString())}' may not read this hub. Add the page's " +
                "origin to Cors:AllowedOrigins (for example Cors:AllowedOrigins:0=https://dashboard.example.com).").ExecuteAsync(context);
            return;
        }
        await _next(context);
    }

    /// <summary>
    /// Every path that reads projects' data (<see cref="DataPaths"/>): the SSE endpoint and its
    /// head offset, the live state, the SignalR hub (negotiate, every transport).
    /// </summary>
    public static bool IsStreamPath(PathString path) => DataPaths.Contains(path);

    private static bool IsExempt(PathString path) => HostCheckExempt.Any(p => path.Equals(p, StringComparison.OrdinalIgnoreCase));

    private bool IsAllowedHost(HostString host)
    {
        // HTTP/1.0 without Host (Kestrel refuses HTTP/1.1 without one); a browser always sends it.
        if (!host.HasValue) return true;
        if (IsLocalhostOrIpLiteral(host.Host)) return true;
        return _hosts.Length > 0 && HostString.MatchesAny(host.Value, _hosts);
    }

    /// <summary>
    /// <c>localhost</c> and IP literals. A rebinding attack needs a name the attacker's DNS
    /// answers for; a page whose origin is an IP literal (or localhost) was served by whatever
    /// listens there, so it cannot be the attacker's. This also lets orchestrators and clients
    /// that address the hub by its pod or host address in.
    /// </summary>
    public static bool IsLocalhostOrIpLiteral(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
        (host.StartsWith('[') && host.EndsWith(']') && IPAddress.TryParse(host[1..^1], out _)) ||
        (!host.Contains(':') && IPAddress.TryParse(host, out _));

    private bool IsAllowedOrigin(StringValues origin, HostString host)
    {
        // Two Origin headers is no browser's request. "null" (sandboxed frames, file://) is any page at all.
        if (origin.Count != 1 || origin[0] is not { Length: > 0 } value) return false;
        return _cors.IsOriginAllowed(value) || IsSameOrigin(value, host);
    }

    /// <summary>
    /// Whether the origin is the host's own (the viewer served by the hub): same host name, same
    /// port (a Host without one means the origin scheme's default). The scheme is not compared:
    /// behind a TLS-terminating proxy the request is http while the page is https. The Host has
    /// already been checked, so the name is the hub's own.
    /// </summary>
    public static bool IsSameOrigin(string origin, HostString host)
    {
        if (!host.HasValue || !Uri.TryCreate(origin, UriKind.Absolute, out var uri) ||
            (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.AbsolutePath != "/")
            return false;
        if (!uri.Host.Equals(host.Host, StringComparison.OrdinalIgnoreCase)) return false;
        return host.Port is { } port ? uri.Port == port : uri.IsDefaultPort;
    }


    [LoggerMessage(EventId = 8050, Level = LogLevel.Information, Message = "Refused a request for {Path} addressed to host '{Host}': not localhost, an IP address or in Security:AllowedHosts (DNS rebinding guard).")]
    private static partial void LogHostRefused(ILogger logger, string host, string path);

    [LoggerMessage(EventId = 8051, Level = LogLevel.Information, Message = "Refused a request for {Path} from the browser origin '{Origin}': not in Cors:AllowedOrigins (cross-site guard).")]
    private static partial void LogOriginRefused(ILogger logger, string origin, string path);

    [LoggerMessage(EventId = 8052, Level = LogLevel.Warning, Message = "Security:AllowedHosts is '*': the hub answers to any host name, so a DNS-rebinding page can read it unless a proxy in front checks Host.")]
    private static partial void LogHostCheckOff(ILogger logger);
}

/// <summary>Registration of <see cref="CrossSiteGuard"/>: options and start-up check, then first in the pipeline.</summary>
public static class CrossSiteGuardSetup
{
    public static IServiceCollection AddCrossSiteGuard(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<CrossSiteOptions>, CrossSiteOptionsValidator>();
        services.AddOptions<CrossSiteOptions>().Bind(configuration.GetSection(CrossSiteOptions.Section)).ValidateOnStart();
        return services;
    }

    /// <summary>First, so that a refused request reaches neither CORS, authentication nor the endpoints.</summary>
    public static IApplicationBuilder UseCrossSiteGuard(this IApplicationBuilder app) => app.UseMiddleware<CrossSiteGuard>();
}
