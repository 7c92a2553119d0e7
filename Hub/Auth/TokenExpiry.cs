namespace EventHub.Auth;

/// <summary>
/// A token that fires when a stream's bearer token expires, on the injected <see cref="TimeProvider"/>
/// (tests control time). Long lifetimes are handled by re-arming: a timer cannot wait more than
/// about 49 days at once, and a timer that fired early re-checks the clock before cancelling.
/// </summary>
public sealed class TokenExpiry : IDisposable
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    private readonly CancellationTokenSource _cts = new();
    private readonly TimeProvider _timeProvider;
    private readonly DateTimeOffset _expiresAt;
    private readonly ITimer? _timer;

    private TokenExpiry(DateTimeOffset? expiresAt, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        if (expiresAt is not { } at) return;
        _expiresAt = at;
        _timer = timeProvider.CreateTimer(static s => ((TokenExpiry)s!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Check();
    }

    /// <summary>Starts watching <paramref name="expiresAt"/>; null never fires.</summary>
    public static TokenExpiry Start(DateTimeOffset? expiresAt, TimeProvider timeProvider) => new(expiresAt, timeProvider);

    /// <summary>Cancelled when the token expires.</summary>
    public CancellationToken Token => _cts.Token;

    public bool HasExpired => _cts.IsCancellationRequested;

    private void Check()
    {
        var left = _expiresAt - _timeProvider.GetUtcNow();
        if (left <= TimeSpan.Zero)
        {
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
            return;
        }
        try { _timer?.Change(left < MaxWait ? left : MaxWait, Timeout.InfiniteTimeSpan); }
        catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _cts.Dispose();
    }
}
