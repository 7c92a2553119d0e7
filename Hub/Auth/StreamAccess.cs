using System.Security.Claims;
using EventHub.Streaming;
using Microsoft.Extensions.Options;

namespace EventHub.Auth;

/// <summary>
/// The one place that decides which projects a caller may stream. Both transports (the SSE
/// endpoint and each hub stream request) call <see cref="Authorize"/> before
/// <see cref="EventStreamSource.OpenAsync"/> and open only the request it returns, so a project
/// filter the token does not cover never reaches the stream source, whatever offset comes with it.
/// </summary>
/// <remarks>
/// Open mode allows everything. In token mode: an unauthenticated caller is refused (401);
/// a request naming a project outside the token is refused as a whole (403), never silently
/// narrowed, so a client cannot mistake a partial stream for the one it asked for; a request for
/// every project (no project named) becomes exactly the token's projects, unless the token has
/// the wildcard. The offset is not touched: it only positions the stream, and the stream's
/// project filter applies to catch-up and live alike, so an offset cannot reach other projects.
/// </remarks>
public sealed class StreamAccess(IOptions<AuthOptions> options, StreamRequestValidator validator, TimeProvider timeProvider)
{
    public AuthMode Mode => options.Value.Mode;

    /// <summary>
    /// Narrows the request to what <paramref name="user"/> may read, or throws
    /// <see cref="AccessDeniedException"/> (or <see cref="StreamRequestException"/> for a malformed request).
    /// </summary>
    public StreamGrant Authorize(ClaimsPrincipal? user, StreamRequest request)
    {
        var o = options.Value;
        if (o.Mode == AuthMode.Open) return new StreamGrant(request, null);

        // Only what the hub took from the validated token counts (TokenContent); never a claim looked up by name.
        var token = user?.Identity?.IsAuthenticated == true ? ValidatedTokenIdentity.Of(user) : null;
        if (token is null)
            throw new AccessDeniedException(StatusCodes.Status401Unauthorized, AccessErrorCodes.Unauthenticated,
                "A bearer token is required: send 'Authorization: Bearer <token>' or, where headers cannot be set (EventSource, WebSocket), '?access_token=<token>'.");

        var expiresAt = token.ExpiresAt;
        // The token was checked when the connection opened; a SignalR connection outlives it, so
        // a new stream on an old connection is checked again here.
        if (expiresAt <= timeProvider.GetUtcNow())
            throw new AccessDeniedException(StatusCodes.Status401Unauthorized, AccessErrorCodes.TokenExpired,
                "The token has expired. Reconnect with a fresh token and resume from the last offset you received.");

        // Malformed input is a 400 before it is a 403: the same answer as in open mode.
        validator.Validate(request);
        var scope = token.Projects;
        if (scope.Problem is { } problem)
            throw new AccessDeniedException(StatusCodes.Status403Forbidden, AccessErrorCodes.InvalidProjectsClaim,
                $"The token's '{o.ProjectsClaim}' claim cannot be used: {problem}. Ask for a token whose '{o.ProjectsClaim}' claim is " +
                $"a JSON array of project ids ({ProjectIds.AllowedCharacters}), or [\"*\"] for every project; nothing is granted from a claim in part.");
        if (scope.AllowsAll) return new StreamGrant(request, expiresAt);
        if (scope.Projects!.Count == 0)
            throw new AccessDeniedException(StatusCodes.Status403Forbidden, AccessErrorCodes.NoProjects,
                $"The token lists no projects in its '{o.ProjectsClaim}' claim, so it may read none. Ask for a token that names the projects you need.");

        if (request.Projects.Count == 0)
        {
            // "Every project" means every project of the token, in a stable order.
            var mine = scope.Projects.Order(StringComparer.Ordinal).ToArray();
            return new StreamGrant(request with { Projects = mine, ProjectsFromToken = true }, expiresAt);
        }
        foreach (var project in request.Projects)
            if (!scope.Allows(project))
                throw new AccessDeniedException(StatusCodes.Status403Forbidden, AccessErrorCodes.ForbiddenProject,
                    $"The token does not allow project '{Printable(project)}'. Request only the projects in its '{o.ProjectsClaim}' claim, or none to stream all of them.");
        return new StreamGrant(request, expiresAt);
    }

    // The project id is the caller's input: keep the message one short, printable line.
    private static string Printable(string s)
    {
        var clean = new string(s.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length > 40 ? clean + "…" : clean;
    }
}
