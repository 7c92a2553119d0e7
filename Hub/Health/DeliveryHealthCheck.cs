using EventHub.Observability;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace EventHub.Health;

/// <summary>
/// Readiness: committed rows have not waited unpublished, with this node's tail standing still, for
/// longer than <see cref="HealthOptions.MaxTailLag"/> (the tail-lag sampler's view, every 2 s).
/// </summary>
/// <remarks>
/// The tail's check counts a read that finds no new tick as progress, and the ticker's check looks
/// at this node's ticker only: with no node ticking (every node started with
/// <c>Ticker:Enabled=false</c>, or the ticking ones gone) nothing is delivered while both stay green
/// (found by an operator's trial). Under steady traffic rows always wait at a sample, but the tail
/// moves between samples; when idle none wait.
/// </remarks>
/// <remarks>
/// A tail that reads the replica (<paramref name="tailReadsReplica"/>) stands still too while the
/// replica does not replay what the primary's ticker ticks; asking whether any node ticked sent an
/// operator to the ticker while another node ticked fine.
/// </remarks>
public sealed class DeliveryHealthCheck(EventHubMetrics metrics, IOptions<HealthOptions> options, bool tailReadsReplica) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(metrics.RowsWaitingFor is { } waiting && waiting > options.Value.MaxTailLag
            ? HealthCheckResult.Unhealthy(
                $"Committed change_log rows have waited {waiting.TotalSeconds:F1} s for this node to publish them (Health:MaxTailLag is " +
                $"{options.Value.MaxTailLag.TotalSeconds:F1} s), and its tail has not moved: " + (tailReadsReplica
                    ? "its tail reads the replica (Stream:TailReadsFromReplica), whose replay is likely paused or behind " +
                      "(pg_is_wal_replay_paused(), pg_last_wal_replay_lsn() on the replica)."
                    : "is any node ticking (Ticker:Enabled)?"))
            : HealthCheckResult.Healthy());
}
