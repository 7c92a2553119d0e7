using EventHub.Health;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventHub.Tests.Resilience;

/// <summary>
/// A probe that finds its server down says why in its description and carries no exception: the
/// health check service logs an unhealthy result at every probe, and an exception made that
/// Npgsql's whole stack each time (73 stack lines in 20 s with one prober, seen in a black-box run).
/// </summary>
public sealed class DatabaseProbeTests
{
    [Fact]
    public async Task A_probe_of_a_server_that_does_not_answer_is_unhealthy_with_its_reason_and_no_exception_to_log_a_stack_of()
    {
        var closed = $"Host=127.0.0.1;Port={EventHub.Storage.LoopbackPorts.Free()};Username=nobody;Database=nowhere";
        using var check = new ReplicaHealthCheck(ReplicaHealthCheck.CreateProbe(closed), TimeProvider.System);

        var result = await check.CheckHealthAsync(new HealthCheckContext()).WithTimeout();

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Null(result.Exception);
        Assert.StartsWith("The read replica (ConnectionStrings:EventHubReplica), where catch-up reads go, does not answer. (", result.Description);
        Assert.Contains("Exception: ", result.Description); // the reason: its type and message
    }
}
