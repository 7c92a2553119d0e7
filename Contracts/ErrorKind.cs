namespace EventHub.Contracts;

/// <summary>The family of an error code (<see cref="ErrorContract"/>), for documentation and metrics.</summary>
public enum ErrorKind
{
    /// <summary>The request is malformed or names something that cannot be served.</summary>
    Request,
    /// <summary>Authentication, authorization, and the cross-site guard.</summary>
    Access,
    /// <summary>A connection or stream limit.</summary>
    Limit,
    /// <summary>The server's side: unavailable, stopping, failing.</summary>
    Server,
    /// <summary>Not an error: the stream cannot continue from the offset without a gap; refetch, then continue from the offset given.</summary>
    Reset,
}
