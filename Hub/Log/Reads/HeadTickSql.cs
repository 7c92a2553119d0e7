using Dapper;
using Npgsql;

namespace EventHub.Log;

/// <summary>The newest tick's id, 0 before the first tick: one backward step of the tick table's key.</summary>
public static class HeadTickSql
{
    public const string Text = "SELECT coalesce(max(tick_id), 0) FROM eventhub_tick";

    public static Task<long> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.QuerySingleAsync<long>(new CommandDefinition(Text, cancellationToken: cancellationToken));
}
