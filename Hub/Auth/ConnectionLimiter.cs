using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using Microsoft.Extensions.Options;

namespace EventHub.Auth;

/// <summary>
/// Counts concurrent connections (each SSE stream, each SignalR connection) per token and per
/// client address, and refuses one past <see cref="LimitsOptions.MaxConnectionsPerToken"/> or
/// <see cref="LimitsOptions.MaxConnectionsPerAddress"/>. Guards against one leaked token, or one
/// client, holding every stream slot of the hub.
/// </summary>
public sealed class ConnectionLimiter(IOptions<LimitsOptions> options)
{
    /// <summary>Claim carrying a digest of the raw token (added when the token is validated).</summary>
    public const string TokenIdClaim = "eventhub:token_id";

    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Current count of a key (for tests): <c>token:{digest}</c> or <c>address:{ip}</c>.</summary>
    public int Count(string key) => _counts.TryGetValue(key, out var n) ? n : 0;

    /// <summary>
    /// Takes one slot for the token (if any) and one for the address, or throws
    /// <see cref="AccessDeniedException"/> (429) naming the limit. Dispose the lease when the connection ends.
    /// </summary>
    public IDisposable Acquire(ClaimsPrincipal? user, IPAddress? address)
    {
        var o = options.Value;
        string? tokenKey = user?.FindFirst(TokenIdClaim)?.Value is { } id ? "token:" + id : null;
        string? addressKey = address is null ? null : "address:" + (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

        if (tokenKey is not null && !TryTake(tokenKey, o.MaxConnectionsPerToken))
            throw new AccessDeniedException(StatusCodes.Status429TooManyRequests, AccessErrorCodes.TooManyConnectionsPerToken,
                $"This token already has {o.MaxConnectionsPerToken} open connections (Limits:MaxConnectionsPerToken). Close one, or share one SignalR connection between streams.");
        if (addressKey is not null && !TryTake(addressKey, o.MaxConnectionsPerAddress))
        {
            if (tokenKey is not null) Release(tokenKey);
            throw new AccessDeniedException(StatusCodes.Status429TooManyRequests, AccessErrorCodes.TooManyConnectionsPerAddress,
                $"This address already has {o.MaxConnectionsPerAddress} open connections (Limits:MaxConnectionsPerAddress). Close one and try again.");
        }
        return new Lease(this, tokenKey, addressKey);
    }

    private bool TryTake(string key, int limit)
    {
        while (true)
        {
            var current = _counts.GetOrAdd(key, 0);
            if (current >= limit) return false;
            // Compare-and-swap: two connections racing for the last slot cannot both get it.
            if (_counts.TryUpdate(key, current + 1, current)) return true;
        }
    }

    private void Release(string key)
    {
        while (_counts.TryGetValue(key, out var current))
        {
            if (current <= 1)
            {
                // Remove only if still 1: a racing TryTake that made it 2 keeps the entry.
                if (_counts.TryRemove(KeyValuePair.Create(key, current))) return;
            }
            else if (_counts.TryUpdate(key, current - 1, current)) return;
        }
    }

    private sealed class Lease(ConnectionLimiter owner, string? tokenKey, string? addressKey) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            if (tokenKey is not null) owner.Release(tokenKey);
            if (addressKey is not null) owner.Release(addressKey);
        }
    }
}
