namespace EventHub.Contracts;

/// <summary>How a client reacts to an error code (<see cref="ErrorContract"/>).</summary>
public enum RetryMode
{
    /// <summary>Stop and report: the same request fails again until a person changes it.</summary>
    Never,
    /// <summary>Reconnect at once (the server asked for it, or the stream continues after a reset).</summary>
    AtOnce,
    /// <summary>Reconnect after a growing delay: the cause is on the server's side or a limit that frees up.</summary>
    WithBackoff,
    /// <summary>Reconnect with a fresh access token (ask the token provider again); stop if none can be had.</summary>
    WithFreshToken,
}
