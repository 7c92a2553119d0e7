using System.Reflection;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// Applies the ordered, versioned SQL migrations embedded in this assembly
/// (<c>Storage/Migrations/NNNN_name.sql</c>). Each migration runs once per database and is
/// recorded in <c>eventhub_schema_migrations</c>. Then, still under its lock, it confirms the
/// log's epoch: a database that is not where its epoch was created (restored, copied, promoted)
/// gets a new one (migration 0028), so no offset from before is read as this log's.
/// </summary>
/// <remarks>
/// Two hub processes starting at the same moment both call this. Everything runs in one
/// transaction that first takes a transaction-scoped advisory lock, so the second process
/// waits, then sees the first one's rows in its own (READ COMMITTED) statements and applies
/// nothing. The lock is taken before <c>CREATE TABLE IF NOT EXISTS</c>: that statement alone
/// is not safe under concurrency (both can pass the check and one fails on pg_type).
/// </remarks>
public sealed partial class SchemaMigrator(NpgsqlDataSource dataSource, ILogger<SchemaMigrator> logger)
{
    // Arbitrary constant that names EventHub's migration lock among advisory locks.
    private const long MigrationLockKey = 0x45_76_48_75_62_4D_69_67; // "EvHubMig"

    public static IReadOnlyList<Migration> EmbeddedMigrations { get; } = LoadEmbedded();

    public async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(@key)", new { key = MigrationLockKey }, transaction,
            cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("""
            CREATE TABLE IF NOT EXISTS eventhub_schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, transaction: transaction, cancellationToken: cancellationToken));
        var applied = (await connection.QueryAsync<int>(new CommandDefinition(
            "SELECT version FROM eventhub_schema_migrations", transaction: transaction,
            cancellationToken: cancellationToken))).ToHashSet();

        var count = 0;
        foreach (var migration in EmbeddedMigrations.Where(m => !applied.Contains(m.Version)))
        {
            LogApplying(migration.Version, migration.Name);
            await connection.ExecuteAsync(new CommandDefinition(
                migration.Sql, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO eventhub_schema_migrations (version, name) VALUES (@Version, @Name)",
                migration, transaction, cancellationToken: cancellationToken));
            count++;
        }
        // Under the same lock, so nodes starting at once renew an epoch once (migration 0028).
        var (epoch, previous) = await connection.QuerySingleAsync<(string Epoch, string? Previous)>(new CommandDefinition(
            "SELECT epoch, previous FROM eventhub_confirm_epoch()", transaction: transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        if (previous is not null) LogEpochRenewed(previous, epoch);
        if (count == 0) LogUpToDate(EmbeddedMigrations[^1].Version);
        return count;
    }

    private static List<Migration> LoadEmbedded()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = MigrationName().Match(resource);
            if (!match.Success) continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(int.Parse(match.Groups[1].Value), match.Groups[2].Value, reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < migrations.Count; i++)
            if (migrations[i].Version == migrations[i - 1].Version)
                throw new InvalidOperationException($"Two migrations share version {migrations[i].Version}.");
        return migrations;
    }

    [GeneratedRegex(@"\.(\d{4})_([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex MigrationName();

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applying migration {Version} ({Name})")]
    private partial void LogApplying(int version, string name);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Schema is up to date at version {Version}")]
    private partial void LogUpToDate(int version);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "This database is not where its log's epoch {Previous} " +
        "was created (a restore, a copy of the database, or a promotion: its system identifier, database or timeline differs), " +
        "so it is another log from here: its epoch is now {Epoch}, and clients resuming with an offset from before get the " +
        "reset signal (offset_from_another_log) and refetch their state")]
    private partial void LogEpochRenewed(string previous, string epoch);

    public sealed record Migration(int Version, string Name, string Sql);
}
