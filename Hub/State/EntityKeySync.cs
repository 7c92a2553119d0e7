using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.State;

/// <summary>
/// Makes <c>eventhub_entity_key</c> what configuration says (<see cref="EntityKeyOptions"/>: the
/// built-in keys, overridden and extended by <c>State:EntityKeys</c>) at start-up, after the
/// migrations and before the ticker folds ticks into the state. When that changes a type's key (a
/// new type, another kind or fields, a key taken out of configuration), the state is folded again
/// for the kinds it touches from what the base and the log hold (<c>eventhub_apply_entity_keys</c>,
/// migration 0027), so events written before the change are keyed as after it; what retention
/// already pruned of a type that had no key is gone.
/// </summary>
public sealed partial class EntityKeySync(NpgsqlDataSource dataSource, IOptions<EntityKeyOptions> options, EntityKinds kinds,
    ILogger<EntityKeySync> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configured = new Dictionary<string, object>(StringComparer.Ordinal);
        // Each key has a kind and distinct fields: checked at start-up (OptionsValidation), before the host starts this.
        foreach (var (type, key) in options.Value.EntityKeys)
        {
            configured[type] = new { kind = key.Kind, fields = key.Fields.ToArray() };
            LogKeyed(type, key.Kind, string.Join(",", key.Fields));
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await connection.QuerySingleAsync<string[]>(new CommandDefinition(
            "SELECT eventhub_apply_entity_keys(@configured::jsonb)",
            new { configured = System.Text.Json.JsonSerializer.Serialize(configured) }, transaction, commandTimeout: 0,
            cancellationToken: cancellationToken));
        // The kinds as this node's configuration makes them, for the state's filter (EntityKinds):
        // read in the transaction that made the table so, not after another node's start changed it.
        kinds.Set(await connection.QueryAsync<(string, string)>(new CommandDefinition(
            "SELECT event_type, kind FROM eventhub_entity_key", transaction: transaction, cancellationToken: cancellationToken)));
        await transaction.CommitAsync(cancellationToken);
        if (changed.Length > 0) LogRefolded(string.Join(", ", changed.Order(StringComparer.Ordinal)));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Events of type {Type} are entities of kind {Kind}, keyed by {Fields}")]
    private partial void LogKeyed(string type, string kind, string fields);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information,
        Message = "The entity keys of {Types} changed with the configuration: the live state was folded again from the log for their kinds")]
    private partial void LogRefolded(string types);
}
