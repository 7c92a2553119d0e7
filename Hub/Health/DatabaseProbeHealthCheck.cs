using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EventHub.Health;

/// <summary>
/// Readiness from a probe of one database server: <c>SELECT 1</c> through a pool of its own.
/// </summary>
/// <remarks>
/// The probe has a pool of its own (one connection), so requests that hold every session of the
/// server's other pools do not make a busy server look down; one probe runs at a time and its
/// answer is kept for <see cref="KeepAnswerFor"/>, so probes from several balancers cost one query.
/// </remarks>
public abstract class DatabaseProbeHealthCheck(NpgsqlDataSource probe, TimeProvider timeProvider, string doesNotAnswer) : IHealthCheck, IDisposable
{
    /// <summary>The probe's connect and command timeout, seconds.</summary>
    public const int ProbeTimeoutSeconds = 2;

    public static readonly TimeSpan KeepAnswerFor = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (long At, HealthCheckResult Result)? _last;

    /// <summary>A probe's pool (one connection) on the server of <paramref name="connectionString"/>.</summary>
    public static NpgsqlDataSource CreateProbe(string connectionString, string applicationName) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxPoolSize = 1,
            MinPoolSize = 0,
            Timeout = ProbeTimeoutSeconds,
            CommandTimeout = ProbeTimeoutSeconds,
            ApplicationName = applicationName,
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
                // The reason in the description, not the exception: the health check service logs
                // an unhealthy result at every probe, and with an exception that was Npgsql's whole
                // stack each time (dozens of lines a second with a few balancers probing). The
                // response says only "Unhealthy": no database text reaches a client.
                result = HealthCheckResult.Unhealthy($"{doesNotAnswer} ({e.GetType().Name}: {e.Message})");
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
        GC.SuppressFinalize(this);
    }
}
