using System.Net;
using System.Text.Json;
using EventHub.Contracts;

namespace EventHub.Client.Internal;

/// <summary>
/// Reads the hub's JSON error body (<c>{"error":{"code","message"}}</c>) off a refused HTTP request
/// of SignalR's (the negotiation), which SignalR's client drops: it keeps only the status, so a
/// 403 <c>host_not_allowed</c> read as "a wrong URL" and a 401 <c>token_expired</c> as
/// <c>unauthenticated</c>, each with "Response status code does not indicate success" for a message.
/// </summary>
internal sealed class HubErrorResponseHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "application/json") return response;
        string? code = null, message = null;
        try
        {
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            StreamSignal.TryReadError(body.RootElement, out code, out message);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Not the hub's body (a proxy's), or a body cut short: SignalR's client classifies the
            // status as before (a 401 still asks for a fresh token).
        }
        if (code is null) return response;
        var status = response.StatusCode;
        response.Dispose();
        throw new HubRefusalException(code, message is { Length: > 0 } ? message : $"The hub answered {(int)status}.", status);
    }
}

/// <summary>An HTTP refusal that carries the hub's error code (see <see cref="HubErrorResponseHandler"/>).</summary>
internal sealed class HubRefusalException(string code, string message, HttpStatusCode status)
    : HttpRequestException($"{message} ({(int)status} {code})", null, status)
{
    /// <summary>The hub's code, from its error contract (or a newer hub's).</summary>
    public string Code { get; } = code;

    /// <summary>The hub's explanation.</summary>
    public string Reason { get; } = message;
}
