using EventHub.Log;

namespace EventHub.Streaming;

/// <summary>
/// What a client asks for, before validation: the same for every transport.
/// </summary>
/// <param name="Projects">Projects to stream; empty means all.</param>
/// <param name="Types">Event types, exact or as a prefix ending in <c>*</c>; empty means all.</param>
/// <param name="After">Opaque offset to resume after; <c>"0"</c> is the beginning, null is "from now".</param>
public sealed record StreamRequest(IReadOnlyList<string> Projects, IReadOnlyList<string> Types, string? After)
{
    /// <summary>
    /// Whether <see cref="Projects"/> are a token's projects that authorization put in place of a
    /// request that named none (so a limit's message speaks of the token, not of what was given).
    /// </summary>
    public bool ProjectsFromToken { get; init; }
}

/// <summary>A request that passed <see cref="StreamRequestValidator"/>.</summary>
public sealed record ValidatedStreamRequest(EventFilter Filter, ParsedOffset? After);
