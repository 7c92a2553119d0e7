using Dapper;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// Makes a tick now if a committed row is in none (<c>eventhub_make_tick()</c>, migration 0007) and
/// returns the newest tick, made or not: every row committed before the call is in it or before it.
/// </summary>
/// <remarks>For a node that does not hold the ticker's lease (a "from now" open there, a head offset).</remarks>
public static class MakeTickSql
{
    public const string Text = "SELECT tick_id FROM eventhub_make_tick()";

    public static Task<long> RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.QuerySingleAsync<long>(new CommandDefinition(Text, cancellationToken: cancellationToken));
}
