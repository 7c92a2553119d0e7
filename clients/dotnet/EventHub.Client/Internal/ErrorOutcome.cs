namespace EventHub.Client.Internal;

/// <summary>What the client does after a stream ended: the contract's retry mode, plus the reset.</summary>
/// <remarks>The names match the <c>expect</c> values of <c>clients/error-classification-cases.json</c> (snake_case there).</remarks>
internal enum ErrorOutcome
{
    /// <summary>Stop the enumeration with the error: the same request fails again.</summary>
    Stop,
    /// <summary>Yield a <see cref="StreamReset"/> and continue from its offset.</summary>
    Reset,
    /// <summary>Reconnect without waiting.</summary>
    RetryAtOnce,
    /// <summary>Reconnect after the reconnect policy's delay.</summary>
    RetryWithBackoff,
    /// <summary>Reconnect at once with a fresh token from the provider; stop if it happens again before an event arrives or a stream has run 10 s on the fresh token.</summary>
    RetryWithFreshToken,
}
