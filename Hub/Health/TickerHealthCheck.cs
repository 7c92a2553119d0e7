using EventHub.Log;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventHub.Health;

/// <summary>
/// Readiness: this node's ticker has not failed every round for longer than
/// <see cref="HealthOptions.MaxTailLag"/>. Without a tick no new event reaches a client, yet the
/// tail's reads go on succeeding (they find no new tick), so the tail's check alone kept such a hub
/// ready while it delivered nothing (a database whose transactions defaulted to REPEATABLE READ made
/// every tick fail). A follower's rounds only look at the lease, and succeed.
/// </summary>
public sealed class TickerHealthCheck(Ticker ticker, IOptions<HealthOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(ticker.FailingFor is { } failing && failing > options.Value.MaxTailLag
            ? HealthCheckResult.Unhealthy(
                $"The ticker has failed every round for {failing.TotalSeconds:F1} s (Health:MaxTailLag is {options.Value.MaxTailLag.TotalSeconds:F1} s): " +
                "no tick is made, so no new event is delivered; the log's 'Ticking failed' warnings say why.")
            : HealthCheckResult.Healthy());
}
