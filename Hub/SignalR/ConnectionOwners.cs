using System.Collections.Concurrent;
using System.Security.Claims;
using EventHub.Auth;
using EventHub.Contracts;
using EventHub.Errors;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>
/// Which principal (token issuer and subject) each open SignalR connection belongs to, by its
/// connection token, and the guard that keeps every other principal's requests off it.
/// </summary>
/// <remarks>
/// SignalR itself binds a connection to its connection token alone (the <c>id</c> of every
/// transport request). Over long polling that matters: each poll, each send (POST) and the
/// closing DELETE is a request of its own, and SignalR serves any of them that names the token,
/// whatever bearer token it carries. The hub authorizes a stream when it opens, so a poll under
/// another principal's valid token, with a connection token that leaked (it travels in URLs: proxy
/// and access logs), read the streams the connection's own principal had opened, sent hub calls
/// as that principal and could end the connection. Over SignalR's Server-Sent Events transport
/// each send is a POST of its own too; a WebSocket or a second event stream with the same token
/// gets 409 from SignalR. The guard covers every transport alike.
///
/// The binding is made when the hub's <c>OnConnectedAsync</c> runs, after SignalR's handshake:
/// before it the connection has run no hub call and opened no stream, so there is nothing to read.
/// A request whose principal differs gets the 404 a connection token nobody has gets, so that a
/// guessed or leaked token tells nothing. A refreshed token of the same issuer and subject is the
/// same principal: a client that renews its token between polls goes on. Open mode has no
/// principal and binds nothing.
/// </remarks>
public sealed class ConnectionOwners
{
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);

    /// <summary>Open connections with an owner (for tests and diagnostics).</summary>
    public int Count => _owners.Count;

    /// <summary>Binds the connection of <paramref name="context"/> to its principal, if it has a connection token and a principal.</summary>
    public void Bind(HubCallerContext context)
    {
        if (TokenOf(context) is { } token && OwnerOf(context.User) is { } owner) _owners[token] = owner;
    }

    /// <summary>Forgets the connection of <paramref name="context"/> (it has ended).</summary>
    public void Release(HubCallerContext context)
    {
        if (TokenOf(context) is { } token) _owners.TryRemove(token, out _);
    }

    /// <summary>
    /// True when <paramref name="connectionToken"/> names an open connection of a principal other
    /// than <paramref name="user"/>'s (a request without a principal counts as another).
    /// </summary>
    public bool BelongsToAnother(string connectionToken, ClaimsPrincipal? user) =>
        _owners.TryGetValue(connectionToken, out var owner) && owner != OwnerOf(user);

    // The connection token is the transport request's "id" (SignalR keeps the first request's
    // HttpContext, or a copy of it for long polling, for the connection's life).
    private static string? TokenOf(HubCallerContext context) =>
        context.GetHttpContext()?.Request.Query["id"].ToString() is { Length: > 0 } token ? token : null;

    private static string? OwnerOf(ClaimsPrincipal? user) => ConnectionLimiter.PrincipalKeyOf(user);
}

/// <summary>The middleware side of <see cref="ConnectionOwners"/>.</summary>
public static class ConnectionOwnerGuard
{
    /// <summary>
    /// Refuses a request to the hub's transport path that names another principal's connection
    /// with 404, as for a connection that does not exist. After authentication: the principal is the request's.
    /// </summary>
    public static IApplicationBuilder UseConnectionOwnerGuard(this IApplicationBuilder app)
    {
        var owners = app.ApplicationServices.GetRequiredService<ConnectionOwners>();
        return app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(EventHubPaths.Events)
                && context.Request.Query["id"].ToString() is { Length: > 0 } token
                && owners.BelongsToAnother(token, context.User))
            {
                await ApiError.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound,
                    "No SignalR connection with this id is open for this principal (the token's issuer and subject). " +
                    "Negotiate a connection of your own.").ExecuteAsync(context);
                return;
            }
            await next(context);
        });
    }
}
