using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.Client.Internal;

/// <summary>
/// Sorts failures into "retry" and "stop". The hub ends a request it cannot serve with a
/// <see cref="HubException"/> whose message starts with a stable code (<c>invalid_offset: …</c>);
/// sending the same request again gets the same answer, so those stop the client. A
/// <see cref="HubException"/> without a code is the hub ending a stream it could serve (shutting
/// down, a failure on its side): retried. Transport failures are retried, except HTTP answers that
/// say the URL or the credentials are wrong.
/// </summary>
internal static partial class ErrorClassifier
{
    /// <summary>
    /// The hub's reset signal: <c>reset: {reason}: {message} Continue from offset {offset}.</c>
    /// Not a failure of the request: the client surfaces it and continues from the offset.
    /// </summary>
    public static bool TryGetReset(Exception error, out string reason, out string message, out string continueFrom)
    {
        reason = message = continueFrom = "";
        if (error is not HubException hub) return false;
        var text = HubText(hub.Message);
        var match = ResetMessage().Match(text);
        if (!match.Success) return false;
        reason = match.Groups[1].Value;
        message = match.Groups[2].Value.Trim();
        continueFrom = match.Groups[3].Value;
        return true;
    }

    /// <summary>The hub's code for a stream whose token expired (retryable with a fresh token).</summary>
    public const string TokenExpiredCode = "token_expired";

    /// <summary>The error code a request failure carries, with the rest of the message, if it is one.</summary>
    public static bool TryGetRequestError(Exception error, out string code, out string message)
    {
        code = message = "";
        if (error is not HubException hub) return false;
        var text = HubText(hub.Message);
        var match = CodePrefix().Match(text);
        if (match.Success)
        {
            // An expired token is not a wrong request: reconnecting asks the access-token provider
            // for a fresh one, and the stream resumes from its offset.
            if (match.Groups[1].Value == TokenExpiredCode) return false;
            code = match.Groups[1].Value;
            message = text[match.Length..].Trim();
            return true;
        }
        // SignalR's own answer to a call the hub could not bind (detailed errors are on): the
        // request itself is malformed, a retry would fail the same way.
        text = hub.Message;
        if (text.StartsWith("Failed to invoke", StringComparison.Ordinal) || text.StartsWith("Unknown hub method", StringComparison.Ordinal))
        {
            code = "request_failed";
            message = text;
            return true;
        }
        return false;
    }

    /// <summary>HTTP answers to the negotiation that a retry cannot change: wrong URL, no or bad credentials.</summary>
    public static bool IsRefusedConnection(Exception error) =>
        error is HttpRequestException { StatusCode: HttpStatusCode.NotFound or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest };

    // SignalR prefixes what the hub threw: "An unexpected error occurred invoking 'StreamEvents'
    // on the server. HubException: invalid_offset: …". The hub's own text follows the last marker.
    private static string HubText(string text)
    {
        var marker = text.LastIndexOf(HubExceptionMarker, StringComparison.Ordinal);
        return marker >= 0 ? text[(marker + HubExceptionMarker.Length)..] : text;
    }

    private const string HubExceptionMarker = "HubException: ";

    [GeneratedRegex(@"^reset: ([a-z][a-z0-9_]*): (.*)\bContinue from offset (\S+?)\.?\s*$", RegexOptions.Singleline)]
    private static partial Regex ResetMessage();

    [GeneratedRegex(@"^([a-z][a-z0-9_]*):\s")]
    private static partial Regex CodePrefix();
}
