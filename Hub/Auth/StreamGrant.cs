using EventHub.Streaming;

namespace EventHub.Auth;

/// <summary>
/// What <see cref="StreamAccess"/> allows: the request narrowed to the caller's projects, and
/// when the token that allowed it expires (null: never, as in open mode). The transport ends the
/// stream at <see cref="ExpiresAt"/>.
/// </summary>
public sealed record StreamGrant(StreamRequest Request, DateTimeOffset? ExpiresAt);
