using EventHub.Operations;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventHub.Health;

/// <summary>
/// Readiness: the start-up work that runs once the tail is ready (<see cref="StartupCollection"/>'s
/// full collection, <see cref="CatchUpWarmUp"/>'s read of the log's oldest events, <see cref="LiveWarmUp"/>'s
/// run of the live path) has ended, so a new node gets its first clients once that work is off its
/// cores. Each has ended once its background task has (done, turned off, failed, or its warm-up's timeout).
/// </summary>
/// <remarks>
/// Why: the hub reported ready as soon as the tail was, and the warm-up ran beside the first live
/// load. In the bench's first 10 s cell after a restart (100 SSE subscribers × 100 events/s) the hub
/// served 14,300–15,600 deliveries per CPU-second with the warm-up beside it and 16,600–19,200 with
/// it done before readiness; the late events at the start of a new hub's first load remained
/// (<c>bench/results/2026-12-05-hub-youth.md</c>).
/// </remarks>
public sealed class StartupWarmUpHealthCheck(StartupCollection collection, CatchUpWarmUp warmUp, LiveWarmUp liveWarmUp) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check(("the start-up collection", collection.ExecuteTask), ("the catch-up warm-up", warmUp.ExecuteTask),
            ("the live warm-up", liveWarmUp.ExecuteTask)));

    /// <summary>Not ready (<see cref="HealthEndpoints.NotReadyYet"/>) while any task has not ended (null: its service has not started yet).</summary>
    internal static HealthCheckResult Check(params (string Name, Task? Task)[] work)
    {
        var pending = work.Where(w => w.Task is not { IsCompleted: true }).Select(w => w.Name).ToList();
        return pending.Count == 0
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(HealthEndpoints.NotReadyYet, $"Warming up: {string.Join(" and ", pending)} has not ended yet.");
    }
}
