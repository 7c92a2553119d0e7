using System.Net;
using EventHub.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.Client.Internal;

/// <summary>
/// Sorts the ways a stream ends by the one error contract (<see cref="ErrorContract"/>), so that
/// this client and the TypeScript one decide the same (both are tested over
/// <c>clients/error-classification-cases.json</c>).
/// </summary>
/// <remarks>
/// A stream's own end arrives as data (a <see cref="StreamSignal"/> item): its code is read, not
/// parsed. Two failures happen outside a stream and still arrive as a HubException's text: the
/// refusal of <c>GetHeadOffset</c> and a connection the hub closes at once (a connection limit).
/// For those the text's leading <c>code: </c> is taken only when the contract knows the code, so
/// no wording of a message can be misread as a code.
/// </remarks>
internal static class ErrorClassifier
{
    /// <summary>The outcome of a stream's final signal item.</summary>
    public static ErrorOutcome Classify(StreamSignal signal) =>
        signal.IsReset ? ErrorOutcome.Reset : Of(ErrorContract.RetryOf(signal.Code));

    /// <summary>
    /// The outcome of a failure outside a stream's items, with the contract's code when the hub
    /// named one (else null), and the hub's explanation.
    /// </summary>
    public static ErrorOutcome Classify(Exception error, out string? code, out string message)
    {
        code = null;
        message = error.Message;
        // A refused negotiation with the hub's own code (HubErrorResponseHandler), when the code says
        // to stop or to get a fresh token. One retried with backoff (a 5xx) stays a failed connection,
        // as before: the next hub URL is tried, and a first connection fails unless retried.
        if (error is HubRefusalException refusal && ErrorContract.Find(refusal.Code) is { IsReset: false } refused &&
            refused.Retry is RetryMode.Never or RetryMode.WithFreshToken)
        {
            code = refused.Code;
            message = refusal.Reason;
            return Of(refused.Retry);
        }
        // The negotiation refused for want of a valid token: a fresh one may help (400, 403 and
        // 404 are IsRefusedConnection's: the URL or the credentials are wrong).
        if (error is HttpRequestException { StatusCode: HttpStatusCode.Unauthorized })
        {
            code = ErrorCodes.Unauthenticated;
            return ErrorOutcome.RetryWithFreshToken;
        }
        if (error is not HubException hub) return ErrorOutcome.RetryWithBackoff;
        var text = HubText(hub.Message);
        var colon = text.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && ErrorContract.Find(text[..colon]) is { IsReset: false } known)
        {
            code = known.Code;
            message = text[(colon + 2)..].Trim();
            return Of(known.Retry);
        }
        // SignalR's own answer to a call the hub could not bind (detailed errors are on): the
        // request itself is malformed, a retry would fail the same way.
        if (hub.Message.StartsWith("Failed to invoke", StringComparison.Ordinal) ||
            hub.Message.StartsWith("Unknown hub method", StringComparison.Ordinal))
        {
            code = RequestFailed;
            return ErrorOutcome.Stop;
        }
        // Uncoded: the hub ending something it could serve (a failure on its side).
        return ErrorOutcome.RetryWithBackoff;
    }

    /// <summary>The code of a call SignalR could not bind: a client-side code, not the hub's.</summary>
    public const string RequestFailed = "request_failed";

    /// <summary>HTTP answers to the negotiation that a retry cannot change: a wrong URL, credentials that do not grant access.</summary>
    public static bool IsRefusedConnection(Exception error) =>
        error is HttpRequestException { StatusCode: HttpStatusCode.NotFound or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest };

    private static ErrorOutcome Of(RetryMode retry) => retry switch
    {
        RetryMode.Never => ErrorOutcome.Stop,
        RetryMode.AtOnce => ErrorOutcome.RetryAtOnce,
        RetryMode.WithFreshToken => ErrorOutcome.RetryWithFreshToken,
        _ => ErrorOutcome.RetryWithBackoff,
    };

    // SignalR prefixes what the hub threw: "An unexpected error occurred invoking 'GetHeadOffset'
    // on the server. HubException: forbidden_project: …". The hub's own text follows the last marker.
    private static string HubText(string text)
    {
        var marker = text.LastIndexOf(HubExceptionMarker, StringComparison.Ordinal);
        return marker >= 0 ? text[(marker + HubExceptionMarker.Length)..] : text;
    }

    private const string HubExceptionMarker = "HubException: ";
}
