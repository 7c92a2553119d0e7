using EventHub.Contracts;

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
    public const string Unauthenticated = ErrorCodes.Unauthenticated;
    public const string TokenExpired = ErrorCodes.TokenExpired;
    public const string ForbiddenProject = ErrorCodes.ForbiddenProject;
    public const string NoProjects = ErrorCodes.NoProjects;
    public const string InvalidProjectsClaim = ErrorCodes.InvalidProjectsClaim;
    public const string TooManyConnectionsPerPrincipal = ErrorCodes.TooManyConnectionsPerPrincipal;
    public const string TooManyConnectionsPerAddress = ErrorCodes.TooManyConnectionsPerAddress;
    public const string TooManyStreams = ErrorCodes.TooManyStreams;
}
