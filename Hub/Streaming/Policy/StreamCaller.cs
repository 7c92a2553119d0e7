using System.Net;
using System.Security.Claims;

namespace EventHub.Streaming.Policy;

/// <summary>
/// Who asks for a stream and through which transport: the authenticated principal (null or
/// anonymous in open mode), the client's address (after trusted forwarded headers) and the
/// transport's name for metrics and logs (<c>sse</c>, <c>signalr</c>).
/// </summary>
public sealed record StreamCaller(ClaimsPrincipal? User, IPAddress? Address, string Transport);
