namespace EventHub.Client;

/// <summary>
/// The default reconnect policy: the first attempt at once, then <see cref="InitialDelay"/>
/// doubled each attempt up to <see cref="MaxDelay"/>, each delay shortened by up to
/// <see cref="JitterFraction"/> at random so that many clients of a restarted hub do not come back
/// in step. Retries forever unless <see cref="MaxAttempts"/> or <see cref="MaxElapsed"/> is set.
/// </summary>
public sealed class ExponentialBackoffPolicy : IEventHubReconnectPolicy
{
    /// <summary>The delay before the second attempt (the first is immediate). Default 250 ms.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest delay between two attempts. Default 10 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The share of each delay (0 to 1) that may be taken off at random. Default 0.2.</summary>
    public double JitterFraction { get; init; } = 0.2;

    /// <summary>
    /// Give up after this many reconnect attempts without progress (the connection that failed or
    /// was lost is not counted, nor a reconnect the hub's code asks to make at once); null (the
    /// default) never gives up.
    /// </summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Give up once the client has been reconnecting this long without progress; null (the default) never gives up.</summary>
    public TimeSpan? MaxElapsed { get; init; }

    /// <inheritdoc />
    public TimeSpan? NextDelay(EventHubReconnectContext context)
    {
        if (MaxAttempts is { } max && context.Attempt > max) return null;
        if (MaxElapsed is { } limit && context.Elapsed >= limit) return null;
        if (context.Attempt <= 1) return TimeSpan.Zero;

        // 2^(attempt-2) * initial, computed in doubles so that a long outage cannot overflow.
        var ticks = Math.Min(MaxDelay.Ticks, InitialDelay.Ticks * Math.Pow(2, Math.Min(context.Attempt - 2, 30)));
        var jitter = Math.Clamp(JitterFraction, 0, 1) * Random.Shared.NextDouble();
        return TimeSpan.FromTicks((long)(ticks * (1 - jitter)));
    }
}
