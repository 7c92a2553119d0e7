namespace EventHub.Contracts;

/// <summary>
/// Every code the hub can end a request or a stream with, over SSE (the JSON error body, the
/// <c>stream_error</c> frame, the <c>reset</c> frame's <c>reason</c>) and SignalR (the stream's
/// final <c>stream_error</c> or <c>reset</c> item, and the <c>{code}: </c> prefix of a
/// HubException). What a client does with each is in <see cref="ErrorContract"/>; the hub's own
/// constant classes refer to these, so a code is spelled once.
/// </summary>
public static class ErrorCodes
{
    // The request itself is wrong: the same request fails again.

    /// <summary>The offset is not one this hub issues (malformed, or an epoch no log has).</summary>
    public const string InvalidOffset = "invalid_offset";
    /// <summary>The offset is beyond anything this database has handed out.</summary>
    public const string OffsetOutOfRange = "offset_out_of_range";
    /// <summary>A project id is empty or malformed.</summary>
    public const string InvalidProject = "invalid_project";
    /// <summary>An event type or family is empty or malformed, or a state request's types select part of an entity kind.</summary>
    public const string InvalidType = "invalid_type";
    /// <summary>The request names more projects than the hub allows.</summary>
    public const string TooManyProjects = "too_many_projects";
    /// <summary>The request names more types than the hub allows.</summary>
    public const string TooManyTypes = "too_many_types";
    /// <summary>The SignalR call carried no request object.</summary>
    public const string MissingRequest = "missing_request";
    /// <summary>Nothing is at the request's path (HTTP 404).</summary>
    public const string NotFound = "not_found";
    /// <summary>The request's path does not take its method (HTTP 405).</summary>
    public const string MethodNotAllowed = "method_not_allowed";
    /// <summary>A query parameter other than the project, type and offset has a value the hub does not take.</summary>
    public const string InvalidParameter = "invalid_parameter";

    // Access: who the caller is and what it may read.

    /// <summary>No token, or a token the hub rejects (signature, issuer, audience, format).</summary>
    public const string Unauthenticated = "unauthenticated";
    /// <summary>The token expired (at the request, or during the stream it authorized).</summary>
    public const string TokenExpired = "token_expired";
    /// <summary>The request names a project outside the token's <c>projects</c> claim.</summary>
    public const string ForbiddenProject = "forbidden_project";
    /// <summary>The token's <c>projects</c> claim grants no project.</summary>
    public const string NoProjects = "no_projects";
    /// <summary>The token's <c>projects</c> claim is not a list of project ids.</summary>
    public const string InvalidProjectsClaim = "invalid_projects_claim";
    /// <summary>The request is addressed to a host name the hub does not know (DNS-rebinding guard).</summary>
    public const string HostNotAllowed = "host_not_allowed";
    /// <summary>A browser page from another site made the request.</summary>
    public const string OriginNotAllowed = "origin_not_allowed";

    // Limits.

    /// <summary>The token's principal holds as many connections as the hub allows.</summary>
    public const string TooManyConnectionsPerPrincipal = "too_many_connections_per_principal";
    /// <summary>The client's address holds as many connections as the hub allows.</summary>
    public const string TooManyConnectionsPerAddress = "too_many_connections_per_address";
    /// <summary>This SignalR connection already has as many open streams as the hub allows.</summary>
    public const string TooManyStreams = "too_many_streams";

    // The server's side: nothing is wrong with the request.

    /// <summary>The event log (the database) is unavailable right now.</summary>
    public const string Unavailable = "unavailable";
    /// <summary>The request or the stream failed on the server (logged there).</summary>
    public const string InternalError = "internal_error";
    /// <summary>The server ended the stream (it is stopping, or the stream left the fan-out).</summary>
    public const string ServerEnded = "server_ended";

    // Resets: the stream cannot continue from the client's offset without a gap.

    /// <summary>Reset: the offset belongs to another log (another database, or one re-created since).</summary>
    public const string OffsetFromAnotherLog = "offset_from_another_log";
    /// <summary>Reset: retention pruned events after the offset.</summary>
    public const string OffsetPruned = "offset_pruned";
    /// <summary>Reset: an offset in a format this log no longer issues; refetch and continue from the offset given.</summary>
    public const string OffsetFormatChanged = "offset_format_changed";
}
