using Npgsql;

namespace EventHub.Health;

/// <summary>
/// Readiness of a node whose tail reads the replica (<c>Stream:TailReadsFromReplica</c>): the
/// primary answers. Every other node's tail reads the primary and turns not ready at its first
/// failed read; this one's reads go on succeeding on the replica, so it stayed ready until
/// <c>Health:MaxTailLag</c> (10 s) while the head offset and every stream from now, which ask the
/// primary, already answered <c>unavailable</c>.
/// </summary>
public sealed class PrimaryHealthCheck(NpgsqlDataSource probe, TimeProvider timeProvider) : DatabaseProbeHealthCheck(probe, timeProvider,
    "The primary (ConnectionStrings:EventHub), which makes the ticks, the head offset and every stream from now, does not answer.")
{
    /// <summary>The probe's pool on the primary.</summary>
    public static NpgsqlDataSource CreateProbe(string primaryConnectionString) => CreateProbe(primaryConnectionString, "EventHubPrimaryProbe");
}
