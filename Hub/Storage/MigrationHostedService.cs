using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// Prepares the database during start-up: applies the schema migrations, then gives the hub's
/// tables planner statistics where they have none (<see cref="PlannerStatistics"/>). It is
/// registered before the tail and the notifier, and the host starts hosted services one after
/// another, so nothing reads the log before the schema exists. A database it cannot reach yet is
/// waited for, up to <see cref="DatabaseStartupOptions.StartupWait"/> (a stop meanwhile ends the wait).
/// </summary>
public sealed partial class MigrationHostedService(
    SchemaMigrator migrator,
    PlannerStatistics statistics,
    NpgsqlDataSource dataSource,
    IOptions<DatabaseStartupOptions> options,
    TimeProvider timeProvider,
    ILogger<MigrationHostedService> logger) : IHostedService
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var wait = options.Value.StartupWait;
        var started = timeProvider.GetTimestamp();
        var retry = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await migrator.MigrateAsync(cancellationToken);
                break;
            }
            catch (NpgsqlException e) when (e.IsTransient && !cancellationToken.IsCancellationRequested)
            {
                var waited = timeProvider.GetElapsedTime(started);
                if (waited + retry > wait)
                    throw new DatabaseUnreachableException(
                        $"the database at {Server()} could not be reached for {waited.TotalSeconds:F0} s ({e.Message}). " +
                        $"Check ConnectionStrings:EventHub and that PostgreSQL accepts connections; {DatabaseStartupOptions.Section}:{nameof(DatabaseStartupOptions.StartupWait)} " +
                        $"({wait.TotalSeconds:F0} s) is how long the hub waits for it at start-up.", e);
                LogWaiting(Server(), attempt, e.Message, retry.TotalSeconds);
                await Task.Delay(retry, timeProvider, cancellationToken);
                retry = retry * 2 < LongestRetry ? retry * 2 : LongestRetry;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification
                                                  or PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new DatabaseRefusedException(
                    $"the database at {Server()} refused it ({e.MessageText}). Check ConnectionStrings:EventHub: its user, password and database, " +
                    "and that the user may create tables in the database (docs/deploy.md).", e);
            }
        }
        await statistics.AnalyzeWhereMissingAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private string Server()
    {
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        return $"{settings.Host}:{settings.Port}";
    }

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
        Message = "Waiting for the database at {Server} (attempt {Attempt}: {Reason}); trying again in {DelaySeconds:F2} s")]
    private partial void LogWaiting(string server, int attempt, string reason, double delaySeconds);
}
