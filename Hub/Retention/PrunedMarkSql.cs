using Dapper;
using EventHub.Log;
using Npgsql;

namespace EventHub.Retention;

/// <summary>
/// Where retention has pruned through (<c>eventhub_retention</c>), as a position: every row at or
/// before it is gone. <see cref="LogPosition.Start"/> when nothing was pruned.
/// </summary>
public static class PrunedMarkSql
{
    public const string Text = "SELECT pruned_through_tick, pruned_through_xid::text, pruned_through_seq FROM eventhub_retention";

    public static async Task<LogPosition> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var mark = await connection.QuerySingleOrDefaultAsync<(long Tick, string Xid, long Seq)?>(new CommandDefinition(Text, cancellationToken: cancellationToken));
        return mark is { } m ? LogPosition.PrunedThrough(m.Tick, m.Xid, m.Seq) : LogPosition.Start;
    }
}
