using Dapper;
using Npgsql;

namespace EventHub.Log;

/// <summary>The log's epoch (migration 0002): the name every offset of this log carries.</summary>
/// <remarks>
/// It changes only at a hub's start, before the hub reads the log (SchemaMigrator renews it in a
/// database that was restored, copied or promoted: migration 0028), so each reader and the
/// ticker read it once.
/// </remarks>
public static class EpochSql
{
    public const string Text = "SELECT epoch FROM eventhub_epoch";

    public static Task<string> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.QuerySingleAsync<string>(new CommandDefinition(Text, cancellationToken: cancellationToken));

    /// <summary>For the ticker's thread, which makes blocking calls (see <see cref="Ticker"/>).</summary>
    public static string Read(NpgsqlConnection connection)
    {
        using var read = new NpgsqlCommand(Text, connection);
        return (string)read.ExecuteScalar()!;
    }
}
