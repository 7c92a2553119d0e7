using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace EventHub.Auth;

/// <summary>
/// Counts concurrent connections (each SSE stream, each SignalR connection) per principal and per
/// client address, and refuses one past <see cref="LimitsOptions.MaxConnectionsPerPrincipal"/> or
/// <see cref="LimitsOptions.MaxConnectionsPerAddress"/>. Guards against one leaked token, or one
/// client, holding every stream slot of the hub.
/// </summary>
/// <remarks>
/// The principal is the validated token's issuer and subject (<see cref="ValidatedTokenIdentity"/>),
/// not the token: keyed by the token, every freshly minted token of a client would bring a fresh
/// quota, and a token's own claims could name its key.
/// </remarks>
public sealed class ConnectionLimiter(IOptions<LimitsOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Current count of a key (for tests): <see cref="PrincipalKey"/> or <c>address:{ip}</c>.</summary>
    public int Count(string key) => _counts.TryGetValue(key, out var n) ? n : 0;

    /// <summary>
    /// The key of a principal: a digest of issuer and subject, length-prefixed so that no
    /// (issuer, subject) pair can be spelled as another, and of bounded size whatever the token says.
    /// </summary>
    public static string PrincipalKey(string issuer, string subject)
    {
        var both = Encoding.UTF8.GetBytes($"{issuer.Length}:{issuer}{subject}");
        return "principal:" + Convert.ToHexStringLower(SHA256.HashData(both))[..32];
    }

    /// <summary>The key of <paramref name="user"/>'s principal when a validated token names one (token mode), else null.</summary>
    public static string? PrincipalKeyOf(ClaimsPrincipal? user) =>
        ValidatedTokenIdentity.Of(user) is { } token ? PrincipalKey(token.Issuer, token.Subject) : null;

    /// <summary>The key of an address (an IPv4-mapped IPv6 address counts as its IPv4 address), or null.</summary>
    public static string? AddressKey(IPAddress? address) =>
        address is null ? null : "address:" + (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>
    /// Takes one slot for the principal (if any) and one for the address, or throws
    /// <see cref="AccessDeniedException"/> (429) naming the limit. Dispose the lease when the connection ends.
    /// </summary>
    public IDisposable Acquire(ClaimsPrincipal? user, IPAddress? address)
    {
        var o = options.Value;
        var principalKey = PrincipalKeyOf(user);
        var addressKey = AddressKey(address);

        if (principalKey is not null && !TryTake(principalKey, o.MaxConnectionsPerPrincipal))
            throw new AccessDeniedException(StatusCodes.Status429TooManyRequests, AccessErrorCodes.TooManyConnectionsPerPrincipal,
                $"This principal (the token's issuer and subject) already has {o.MaxConnectionsPerPrincipal} open connections " +
                "(Limits:MaxConnectionsPerPrincipal), whichever of its tokens opened them. Close one, or share one SignalR connection between streams.");
        if (addressKey is not null && !TryTake(addressKey, o.MaxConnectionsPerAddress))
        {
            if (principalKey is not null) Release(principalKey);
            throw new AccessDeniedException(StatusCodes.Status429TooManyRequests, AccessErrorCodes.TooManyConnectionsPerAddress,
                $"This address already has {o.MaxConnectionsPerAddress} open connections (Limits:MaxConnectionsPerAddress). Close one and try again.");
        }
        return new Lease(this, principalKey, addressKey);
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

    private sealed class Lease(ConnectionLimiter owner, string? principalKey, string? addressKey) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            if (principalKey is not null) owner.Release(principalKey);
            if (addressKey is not null) owner.Release(addressKey);
        }
    }
}
