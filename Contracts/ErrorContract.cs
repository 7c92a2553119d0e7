using static EventHub.Contracts.ErrorCodes;

namespace EventHub.Contracts;

/// <summary>
/// The one error contract of the hub and both clients: every code the hub sends, whether a client
/// retries it and how. <c>Contracts/error-contract.json</c> is this table written out (a test in
/// EventHub.Client.Tests fails when it is stale); the TypeScript client's table is checked against
/// that file by its own test, and both clients classify the shared cases in
/// <c>clients/error-classification-cases.json</c> the same way.
/// </summary>
/// <remarks>
/// A code a client does not find here (a newer hub's) is retried with backoff: an unknown code
/// cannot be told apart from a transient one, and backing off keeps a wrong guess cheap.
/// </remarks>
public static class ErrorContract
{
    private const string Resumes = "resumes from the last offset you received";

    /// <summary>Every code, in the order of <see cref="ErrorCodes"/>.</summary>
    public static IReadOnlyList<ErrorCodeInfo> All { get; } =
    [
        new(InvalidOffset, ErrorKind.Request, RetryMode.Never, 400, "Fix the offset: send one the hub gave you, \"0\" for the beginning, or none for from now."),
        new(OffsetOutOfRange, ErrorKind.Request, RetryMode.Never, 400, "The offset is ahead of this database: check the client talks to the hub (and database) that issued it."),
        new(InvalidProject, ErrorKind.Request, RetryMode.Never, 400, "Fix the project id in the request."),
        new(InvalidType, ErrorKind.Request, RetryMode.Never, 400, "Fix the event type or family (for example pr_updated or pr_*) in the request; a state request names whole entity kinds (pr_created, pr_updated and pr_session_changed, or pr_*)."),
        new(TooManyProjects, ErrorKind.Request, RetryMode.Never, 400, "Ask for fewer projects per stream, or for all projects with none."),
        new(TooManyTypes, ErrorKind.Request, RetryMode.Never, 400, "Ask for fewer types per stream; use a family such as pr_*."),
        new(MissingRequest, ErrorKind.Request, RetryMode.Never, null, "Call StreamEvents with a request object; {} streams every project from now."),
        new(NotFound, ErrorKind.Request, RetryMode.Never, 404, "Fix the URL: the hub serves /api/v1/events, /api/v1/events/head, /api/v1/state, /api/v1/projects and /hubs/events (behind a proxy, check its path prefix)."),
        new(MethodNotAllowed, ErrorKind.Request, RetryMode.Never, 405, "Use a method the path takes (the response's Allow header lists them; the API's paths take GET)."),
        new(InvalidParameter, ErrorKind.Request, RetryMode.Never, 400, "Fix the parameter's value in the request (the message names the parameter and the values it takes)."),
        new(Unauthenticated, ErrorKind.Access, RetryMode.WithFreshToken, 401, "Get a valid token from the issuer; the client asks its token provider again and stops if that fails too."),
        new(TokenExpired, ErrorKind.Access, RetryMode.WithFreshToken, 401, $"Nothing, if a token provider is set: the client reconnects with a fresh token and {Resumes}."),
        new(ForbiddenProject, ErrorKind.Access, RetryMode.Never, 403, "Ask only for projects the token's projects claim grants, or get a token that grants them."),
        new(NoProjects, ErrorKind.Access, RetryMode.Never, 403, "Get a token whose projects claim grants at least one project."),
        new(InvalidProjectsClaim, ErrorKind.Access, RetryMode.Never, 403, "Fix the token issuer: the projects claim must be a list of project ids or \"*\"."),
        new(HostNotAllowed, ErrorKind.Access, RetryMode.Never, 403, "Use a host name the hub knows, or add it to Security:AllowedHosts."),
        new(OriginNotAllowed, ErrorKind.Access, RetryMode.Never, 403, "Serve the page from an allowed origin, or add it to Cors:AllowedOrigins."),
        new(TooManyConnectionsPerPrincipal, ErrorKind.Limit, RetryMode.WithBackoff, 429, "Close connections you no longer need; the client retries with backoff until one frees up."),
        new(TooManyConnectionsPerAddress, ErrorKind.Limit, RetryMode.WithBackoff, 429, "Close connections you no longer need; the client retries with backoff until one frees up."),
        new(TooManyStreams, ErrorKind.Limit, RetryMode.Never, null, "Cancel a stream on this connection, or ask for several projects in one stream."),
        new(Unavailable, ErrorKind.Server, RetryMode.WithBackoff, 503, $"Nothing: the client retries with backoff and {Resumes} once the database is back."),
        new(InternalError, ErrorKind.Server, RetryMode.WithBackoff, 500, $"Nothing: the client retries with backoff and {Resumes}; the hub's log says what failed."),
        new(ServerEnded, ErrorKind.Server, RetryMode.AtOnce, null, $"Nothing: the client reconnects at once (to another node, or once the hub is back) and {Resumes}."),
        new(OffsetFromAnotherLog, ErrorKind.Reset, RetryMode.AtOnce, null, "Refetch your state; the stream continues by itself from the offset the reset gives."),
        new(OffsetPruned, ErrorKind.Reset, RetryMode.AtOnce, null, "Refetch your state; the stream continues by itself from the offset the reset gives."),
        new(OffsetFormatChanged, ErrorKind.Reset, RetryMode.AtOnce, null, "Refetch your state; the stream continues by itself from the offset the reset gives (in the log's new format)."),
    ];

    /// <summary>The row of <paramref name="code"/>, or null for a code this contract does not know.</summary>
    public static ErrorCodeInfo? Find(string code)
    {
        foreach (var info in All)
            if (info.Code == code) return info;
        return null;
    }

    /// <summary>How a client retries <paramref name="code"/>; <see cref="RetryMode.WithBackoff"/> for an unknown one (see remarks).</summary>
    public static RetryMode RetryOf(string code) => Find(code)?.Retry ?? RetryMode.WithBackoff;
}
