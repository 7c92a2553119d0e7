using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace EventHub.Auth;

/// <summary>
/// Takes <c>access_token</c> out of the query string before anything sees the request.
/// </summary>
/// <remarks>
/// Browsers cannot set headers on EventSource or WebSocket requests, so SignalR's clients and
/// EventSource pass the bearer token as <c>?access_token=</c>. The host logs every request's
/// query string at Information ("Request starting ... ?access_token=eyJ..."), and so do request
/// logging, diagnostics activities and exception pages, all of which run before any middleware.
/// This server decorator moves the token out of the raw request (path, query and raw target)
/// when the server hands the request to the host, into an <see cref="AccessTokenFeature"/> that
/// only the JWT bearer handler reads. Nothing downstream can log what it never sees.
/// </remarks>
internal sealed class AccessTokenScrubbingServer(IServer inner) : IServer
{
    public const string QueryName = "access_token";

    public IFeatureCollection Features => inner.Features;

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull =>
        inner.StartAsync(new ScrubbingApplication<TContext>(application), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

    public void Dispose() => inner.Dispose();

    /// <summary>Removes <c>access_token</c> from the request's query and raw target; returns the token, if any.</summary>
    internal static string? Scrub(IHttpRequestFeature request)
    {
        var query = request.QueryString;
        // The name may come percent-encoded (access%5Ftoken, %61ccess_token): the query's reader
        // decodes names, so such a query is parsed too, or it reached the logs whole.
        if (string.IsNullOrEmpty(query)
            || (query.IndexOf(QueryName, StringComparison.OrdinalIgnoreCase) < 0 && query.IndexOf('%') < 0)) return null;

        var parsed = QueryHelpers.ParseNullableQuery(query);
        if (parsed is null) return null;
        string? token = null;
        var kept = new List<KeyValuePair<string, StringValues>>(parsed.Count);
        foreach (var pair in parsed)
        {
            if (pair.Key.Equals(QueryName, StringComparison.OrdinalIgnoreCase))
                token ??= pair.Value.FirstOrDefault();
            else
                kept.Add(pair);
        }
        if (token is null && kept.Count == parsed.Count) return null;

        var rebuilt = new StringBuilder();
        foreach (var (key, values) in kept)
            foreach (var value in values)
                rebuilt.Append(rebuilt.Length == 0 ? '?' : '&')
                    .Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
        request.QueryString = rebuilt.ToString();
        var raw = request.RawTarget;
        var q = raw.IndexOf('?');
        if (q >= 0) request.RawTarget = raw[..q] + request.QueryString;
        return token;
    }

    private sealed class ScrubbingApplication<TContext>(IHttpApplication<TContext> inner) : IHttpApplication<TContext> where TContext : notnull
    {
        public TContext CreateContext(IFeatureCollection contextFeatures)
        {
            var token = contextFeatures.Get<IHttpRequestFeature>() is { } request ? Scrub(request) : null;
            // Always set, null included: a server may reuse a feature collection for the next
            // request on a keep-alive connection, which must not inherit this one's token.
            contextFeatures.Set(token is null ? null : new AccessTokenFeature(token));
            return inner.CreateContext(contextFeatures);
        }

        public Task ProcessRequestAsync(TContext context) => inner.ProcessRequestAsync(context);

        public void DisposeContext(TContext context, Exception? exception) => inner.DisposeContext(context, exception);
    }
}

/// <summary>The bearer token a request carried as <c>?access_token=</c>, taken out of its query.</summary>
public sealed class AccessTokenFeature(string token)
{
    public string Token { get; } = token;
}
