namespace EventHub.Storage;

/// <summary>
/// Applies the schema migrations during start-up. It is registered before the tail and the
/// notifier, and the host starts hosted services one after another, so nothing reads the log
/// before the schema exists.
/// </summary>
public sealed class MigrationHostedService(SchemaMigrator migrator) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => migrator.MigrateAsync(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
