using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EventHub.Health;

/// <summary>
/// Readiness with a read replica (<c>ConnectionStrings:EventHubReplica</c>): catch-up reads go
/// there, so a node whose replica does not answer opens every stream from an offset only to end it
/// with <c>unavailable</c>, and a load balancer that took it for ready kept sending it the clients
/// that reconnect (thousands of attempts in seconds). The tail's own check covers the replica
/// only when the tail reads from it (<c>Stream:TailReadsFromReplica</c>).
/// </summary>
/// <remarks>
/// The probe has a pool of its own (one connection), so catch-ups that hold every session of the
/// replica's pools do not make a busy replica look down; one probe runs at a time and its answer
/// is kept for <see cref="KeepAnswerFor"/>, so probes from several balancers cost one query.
/// </remarks>
public sealed class ReplicaHealthCheck(NpgsqlDataSource probe, TimeProvider timeProvider) : IHealthCheck, IDisposable
{
    /// <summary>The probe's connect and command timeout, seconds.</summary>
    public const int ProbeTimeoutSeconds = 2;

    public static readonly TimeSpan KeepAnswerFor = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (long At, HealthCheckResult Result)? _last;

    /// <summary>The probe's pool on the replica.</summary>
    public static NpgsqlDataSource CreateProbe(string replicaConnectionString) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(replicaConnectionString)
        {
            MaxPoolSize = 1,
            MinPoolSize = 0,
            Timeout = ProbeTimeoutSeconds,
            CommandTimeout = ProbeTimeoutSeconds,
            ApplicationName = "EventHubReplicaProbe",
        }.ConnectionString);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_last is { } last && timeProvider.GetElapsedTime(last.At) < KeepAnswerFor) return last.Result;
            HealthCheckResult result;
            try
            {
                await using var connection = await probe.OpenConnectionAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(cancellationToken);
                result = HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException && !cancellationToken.IsCancellationRequested)
            {
                result = HealthCheckResult.Unhealthy(
                    "The read replica (ConnectionStrings:EventHubReplica), where catch-up reads go, does not answer.", e);
            }
            _last = (timeProvider.GetTimestamp(), result);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        probe.Dispose();
        _gate.Dispose();
    }
}
