using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.State;

/// <summary>
/// Writes the configured entity keys (<see cref="EntityKeyOptions"/>) into <c>eventhub_entity_key</c>
/// at start-up, after the migrations. Events of a type written before its key was configured
/// stay out of the state; from the next tick on, its events are folded in.
/// </summary>
public sealed partial class EntityKeySync(NpgsqlDataSource dataSource, IOptions<EntityKeyOptions> options, ILogger<EntityKeySync> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (type, key) in options.Value.EntityKeys)
        {
            if (string.IsNullOrWhiteSpace(key.Kind) || key.Fields.Count == 0 || key.Fields.Any(string.IsNullOrWhiteSpace))
                throw new InvalidOperationException(
                    $"State:EntityKeys:{type} needs a Kind and at least one field in Fields (the payload fields that key the entity).");
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO eventhub_entity_key (event_type, kind, key_fields) VALUES (@type, @kind, @fields)
                ON CONFLICT (event_type) DO UPDATE SET kind = excluded.kind, key_fields = excluded.key_fields
                """, new { type, kind = key.Kind, fields = key.Fields.ToArray() }, cancellationToken: cancellationToken));
            LogKeyed(type, key.Kind, string.Join(",", key.Fields));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Events of type {Type} are entities of kind {Kind}, keyed by {Fields}")]
    private partial void LogKeyed(string type, string kind, string fields);
}
