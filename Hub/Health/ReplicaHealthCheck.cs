using Npgsql;

namespace EventHub.Health;

/// <summary>
/// Readiness with a read replica (<c>ConnectionStrings:EventHubReplica</c>): catch-up reads go
/// there, so a node whose replica does not answer opens every stream from an offset only to end it
/// with <c>unavailable</c>, and a load balancer that took it for ready kept sending it the clients
/// that reconnect (thousands of attempts in seconds). The tail's own check covers the replica
/// only when the tail reads from it (<c>Stream:TailReadsFromReplica</c>).
/// </summary>
public sealed class ReplicaHealthCheck(NpgsqlDataSource probe, TimeProvider timeProvider) : DatabaseProbeHealthCheck(probe, timeProvider,
    "The read replica (ConnectionStrings:EventHubReplica), where catch-up reads go, does not answer.")
{
    /// <summary>The probe's pool on the replica.</summary>
    public static NpgsqlDataSource CreateProbe(string replicaConnectionString) => CreateProbe(replicaConnectionString, "EventHubReplicaProbe");
}
