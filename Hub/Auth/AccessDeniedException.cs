namespace EventHub.Auth;

/// <summary>
/// A request the caller may not make: <see cref="StatusCode"/> is the HTTP status (401, 403,
/// 429) the SSE endpoint answers; the hub sends <c>{Code}: {Message}</c> as a HubException.
/// </summary>
public sealed class AccessDeniedException(int statusCode, string code, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string Code { get; } = code;
}

/// <summary>The error codes of <see cref="AccessDeniedException"/> and of a stream ended by its token's expiry.</summary>
public static class AccessErrorCodes
{
    public const string Unauthenticated = "unauthenticated";
    public const string TokenExpired = "token_expired";
    public const string ForbiddenProject = "forbidden_project";
    public const string NoProjects = "no_projects";
    public const string InvalidProjectsClaim = "invalid_projects_claim";
    public const string TooManyConnectionsPerPrincipal = "too_many_connections_per_principal";
    public const string TooManyConnectionsPerAddress = "too_many_connections_per_address";
    public const string TooManyStreams = "too_many_streams";
}
