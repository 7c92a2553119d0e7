namespace EventHub.Contracts;

/// <summary>One row of <see cref="ErrorContract"/>: a code, its family, and what a client does.</summary>
/// <param name="Code">The stable code (<see cref="ErrorCodes"/>).</param>
/// <param name="Kind">Its family; <see cref="ErrorKind.Reset"/> marks a reset reason.</param>
/// <param name="Retry">How a client retries it.</param>
/// <param name="HttpStatus">The status of the SSE endpoint's error answer, or null when the code only ends an open stream (a frame or a final item).</param>
/// <param name="Action">What the application should do, in one sentence (the clients' READMEs show it).</param>
public sealed record ErrorCodeInfo(string Code, ErrorKind Kind, RetryMode Retry, int? HttpStatus, string Action)
{
    /// <summary>Whether the code is a reset reason (the stream continues after the reset's offset).</summary>
    public bool IsReset => Kind == ErrorKind.Reset;
}
