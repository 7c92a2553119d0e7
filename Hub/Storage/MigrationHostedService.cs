namespace EventHub.Storage;

/// <summary>
/// Prepares the database during start-up: applies the schema migrations, then gives the hub's
/// tables planner statistics where they have none (<see cref="PlannerStatistics"/>). It is
/// registered before the tail and the notifier, and the host starts hosted services one after
/// another, so nothing reads the log before the schema exists.
/// </summary>
public sealed class MigrationHostedService(SchemaMigrator migrator, PlannerStatistics statistics) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await migrator.MigrateAsync(cancellationToken);
        await statistics.AnalyzeWhereMissingAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
