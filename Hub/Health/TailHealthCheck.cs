using EventHub.Streaming;
using EventHub.Streaming.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventHub.Health;

/// <summary>
/// Readiness: the tail reads the log successfully and recently (or, on the ticking node, takes the
/// ticker's ticks). A hub that cannot reach the
/// database keeps its open streams (they resume once it is back) but should get no new clients.
/// </summary>
public sealed class TailHealthCheck(ChangeLogTail tail, IOptions<HealthOptions> options, TimeProvider timeProvider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!tail.Ready.IsCompleted) // starting, not failing (HealthEndpoints.NotReadyYet)
            return Task.FromResult(new HealthCheckResult(HealthEndpoints.NotReadyYet, "The change_log tail has not started yet."));
        if (!tail.IsHealthy)
            return Task.FromResult(HealthCheckResult.Unhealthy("The change_log tail cannot read the database."));
        // A read or a hand-off from this node's ticker: either brings the newest tick from the database.
        var sinceProgress = timeProvider.GetElapsedTime(tail.LastProgressTimestamp);
        if (sinceProgress > options.Value.MaxTailLag)
            return Task.FromResult(HealthCheckResult.Unhealthy(
                $"The change_log tail has not completed a read nor taken a tick from the ticker for {sinceProgress.TotalSeconds:F1} s (Health:MaxTailLag is {options.Value.MaxTailLag.TotalSeconds:F1} s)."));
        return Task.FromResult(HealthCheckResult.Healthy());
    }
}
